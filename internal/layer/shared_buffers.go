package layer

// ShareBuffers returns opts with one set of buffers that every build given
// the result uses, one after another or at once. A push that builds a split
// tree's layers then makes its large buffers once, as a push of one layer
// does, instead of once per layer: each buffer made costs the collector,
// under the CLI's soft memory limit, and the kernel, which zeroes its
// pages. The set keeps no more than one build's own would; a build's
// budget, not the set, bounds what it holds in flight.
func ShareBuffers(opts Options) Options {
	chunkSize := opts.ChunkSize
	if chunkSize <= 0 {
		chunkSize = DefaultChunkSize
	}
	opts.buffers = newBuildBuffers(newBuildBudget(chunkSize, 1).limit)
	return opts
}
