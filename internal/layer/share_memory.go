package layer

import "runtime"

// ShareMemory returns opts with one budget and one set of buffers that
// every build given the result uses, one after another or at once: the
// builds of a split tree's layers. Together they hold no more batches in
// flight than one build would (the budget), and they make their large
// buffers once, as one build does, instead of once per layer: each buffer
// made costs the collector, under the CLI's soft memory limit, and the
// kernel, which zeroes its pages. The set keeps no more than one build's
// own would.
func ShareMemory(opts Options) Options {
	chunkSize, workers := opts.ChunkSize, opts.Workers
	if chunkSize <= 0 {
		chunkSize = DefaultChunkSize
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	opts.budget = newBuildBudget(chunkSize, workers)
	opts.buffers = newBuildBuffers(opts.budget.limit)
	return opts
}
