package layer

import "runtime"

// ShareMemory returns opts with one budget, one set of buffers and one
// set of compressors that every build given the result uses, one after
// another or at once: the builds of a split tree's layers. Together they
// hold no more batches in flight than one build would (the budget), and
// they make their large buffers and their compressors' tables once, as one
// build does, instead of once per layer: each made costs the collector,
// under the CLI's soft memory limit, and the kernel, which zeroes its
// pages; and two builds that overlap would otherwise each hold
// compressors of their own. The set keeps no more than one build's own
// would, and the compressors in use are no more than the batches the
// budget lets be in flight.
func ShareMemory(opts Options) Options {
	chunkSize, workers := opts.ChunkSize, opts.Workers
	if chunkSize <= 0 {
		chunkSize = DefaultChunkSize
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	opts.budget = newBuildBudget(chunkSize, workers)
	// Options the codec refuses leave each build to make its own, and
	// to report the error.
	var held int64
	if comp, err := newCodec(opts.Compression, opts.Level, opts.TempDir); err == nil {
		opts.codec, held = comp, comp.held()
	}
	opts.buffers = newBuildBuffers(opts.budget.limit, held)
	return opts
}
