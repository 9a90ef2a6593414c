package blobber

// CoveredChunkBytes is the most that reading bytes [start, end) of the
// file name may fetch of the layer: the compressed bytes of the chunks
// holding them, as Image reads them.
func CoveredChunkBytes(img *Image, name string, start, end int64) int64 {
	e, err := img.lookup("open", name, true)
	if err != nil || start >= end {
		return 0
	}
	var n int64
	for i := chunkAt(e, start); i < e.NumChunks() && e.Chunk(i).FileOffset < end; i++ {
		n += img.index.Need(e.Chunk(i))
	}
	return n
}
