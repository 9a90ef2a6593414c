package pull

import "sync"

// segmentPool recycles segment buffers: a pull allocates about
// concurrency of them, whatever the size of the layer.
var segmentPool sync.Pool

func getSegment(n int) []byte {
	if b, ok := segmentPool.Get().(*[]byte); ok && cap(*b) >= n {
		return (*b)[:n]
	}
	return make([]byte, n, max(n, segmentTarget+segmentTarget/4))
}

func putSegment(b []byte) { segmentPool.Put(&b) }

// chunkPool recycles the buffers chunks are inflated into, as segmentPool
// does segments: a fresh buffer per segment cost a large pull nearly its
// own size again in allocations, each zeroed.
var chunkPool sync.Pool

func getChunkBuffer() []byte {
	if b, ok := chunkPool.Get().(*[]byte); ok {
		return *b
	}
	return nil
}

func putChunkBuffer(b []byte) {
	if cap(b) > 0 {
		chunkPool.Put(&b)
	}
}
