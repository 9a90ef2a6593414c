package pull

import "sync"

// bufferPool recycles the buffers of one pull: segments, and the chunks
// inflated from them. It keeps at most as many buffers as the pull runs
// segments at once, so what it holds is bounded by the pull's own
// concurrency and budget, and it outlives garbage collections (a
// sync.Pool is emptied by them, and each buffer lost is allocated, and
// zeroed, again).
type bufferPool struct {
	mu   sync.Mutex
	free [][]byte
	keep int // the most buffers kept
	// minCap is the least capacity of a new buffer, so that a buffer made
	// for a short segment serves the next, longer one too.
	minCap int
}

func newBufferPool(buffers, minCap int) *bufferPool {
	return &bufferPool{keep: max(1, buffers), minCap: minCap}
}

// take removes and returns a kept buffer whose capacity ok accepts, or nil.
func (p *bufferPool) take(ok func(capacity int) bool) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, b := range p.free {
		if ok(cap(b)) {
			last := len(p.free) - 1
			p.free[i], p.free[last] = p.free[last], nil
			p.free = p.free[:last]
			return b
		}
	}
	return nil
}

// get returns a buffer of length n: a kept one when it is large enough,
// else a new one.
func (p *bufferPool) get(n int) []byte {
	if b := p.take(func(c int) bool { return c >= n }); b != nil {
		return b[:n]
	}
	return make([]byte, n, max(n, p.minCap))
}

// getSized returns an empty buffer of capacity size: the sizes of decoded
// chunk buffers come in steps (see decodedLimit), so that one kept serves
// the many segments of the same step, and a segment of small chunks holds
// no buffer a large chunk grew.
func (p *bufferPool) getSized(size int) []byte {
	if b := p.take(func(c int) bool { return c == size }); b != nil {
		return b[:0]
	}
	return make([]byte, 0, size)
}

// put keeps b for a later get, unless the pool is full.
func (p *bufferPool) put(b []byte) {
	if cap(b) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) < p.keep {
		p.free = append(p.free, b)
	}
}
