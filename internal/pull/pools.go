package pull

// bufferPool recycles the buffers of one pull: segments, and the chunks
// inflated from them. It keeps at most as many buffers as the pull runs
// segments at once, so what it holds is bounded by the pull's own
// concurrency and budget, and it outlives garbage collections (a
// sync.Pool is emptied by them, and each buffer lost is allocated, and
// zeroed, again).
type bufferPool struct {
	free chan []byte
	// minCap is the least capacity of a new buffer, so that a buffer made
	// for a short segment serves the next, longer one too.
	minCap int
}

func newBufferPool(buffers, minCap int) *bufferPool {
	return &bufferPool{free: make(chan []byte, max(1, buffers)), minCap: minCap}
}

// get returns a buffer of length n: a kept one when it is large enough,
// else a new one (a kept one too small is dropped, as its bytes would not
// serve).
func (p *bufferPool) get(n int) []byte {
	select {
	case b := <-p.free:
		if cap(b) >= n {
			return b[:n]
		}
	default:
	}
	return make([]byte, n, max(n, p.minCap))
}

// getUpTo returns a kept buffer of at most limit bytes of capacity, or
// nil: a larger one is dropped, so that a segment of small chunks does not
// hold, uncounted by its budget, a buffer a large chunk grew.
func (p *bufferPool) getUpTo(limit int) []byte {
	select {
	case b := <-p.free:
		if cap(b) <= limit {
			return b
		}
	default:
	}
	return nil
}

// put keeps b for a later get, unless the pool is full.
func (p *bufferPool) put(b []byte) {
	if cap(b) == 0 {
		return
	}
	select {
	case p.free <- b:
	default:
	}
}
