package pull

import "sync"

// bufferPool recycles the buffers of one pull: segments, and the chunks
// inflated from them. It keeps at most as many buffers as the pull runs
// segments at once, and it outlives garbage collections (a sync.Pool is
// emptied by them, and each buffer lost is allocated, and zeroed, again).
//
// The two pools of a pull share a bound on the bytes of their buffers,
// in use and kept (see bufferBytes): a pull of many sizes of chunk would
// otherwise keep buffers of every size it met besides those in use, and
// hold its heap at the CLI's soft memory limit, where the collector runs
// whenever anything is allocated.
type bufferPool struct {
	mu   sync.Mutex
	free [][]byte
	keep int // the most buffers kept
	// minCap is the least capacity of a new buffer, so that a buffer made
	// for a short segment serves the next, longer one too.
	minCap int
	bytes  *bufferBytes
}

// bufferBytes counts the bytes of the buffers that a pull's pools made and
// still hold or lent out. Beyond limit, a buffer given back is dropped,
// and one that must be made first drops kept ones.
type bufferBytes struct {
	mu    sync.Mutex
	live  int64
	limit int64
	pools []*bufferPool // that share the limit, to drop kept buffers from
}

// newBufferPools returns a pull's pool of segment buffers and its pool of
// decoded chunk buffers, keeping at most buffers each, and together
// within the sizing's budget wherever the buffers in use leave room.
func newBufferPools(buffers int, size sizing) (segments, chunks *bufferPool) {
	bytes := &bufferBytes{limit: size.budget}
	segments = &bufferPool{keep: max(1, buffers), minCap: int(size.bufferSize()), bytes: bytes}
	chunks = &bufferPool{keep: max(1, buffers), bytes: bytes}
	bytes.pools = []*bufferPool{segments, chunks}
	return segments, chunks
}

// made counts a new buffer of capacity n.
func (b *bufferBytes) made(n int) {
	b.mu.Lock()
	b.live += int64(n)
	b.mu.Unlock()
}

// room reports whether n more bytes fit within the limit.
func (b *bufferBytes) room(n int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.live+int64(n) <= b.limit
}

// dropped counts a buffer of capacity n let go.
func (b *bufferBytes) dropped(n int) {
	b.mu.Lock()
	b.live -= int64(n)
	b.mu.Unlock()
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
	size := max(n, p.minCap)
	p.makeRoom(size)
	return make([]byte, n, size)
}

// getSized returns an empty buffer of capacity size: the sizes of decoded
// chunk buffers come in steps (see decodedLimit), so that one kept serves
// the many segments of the same step, and a segment of small chunks holds
// no buffer a large chunk grew.
func (p *bufferPool) getSized(size int) []byte {
	if b := p.take(func(c int) bool { return c == size }); b != nil {
		return b[:0]
	}
	p.makeRoom(size)
	return make([]byte, 0, size)
}

// makeRoom counts a new buffer of capacity size, first dropping kept
// buffers (of this pool, none of which fit, then of the others) until it
// fits within the limit, or none is left.
func (p *bufferPool) makeRoom(size int) {
	for _, from := range append([]*bufferPool{p}, p.bytes.pools...) {
		for !p.bytes.room(size) {
			if !from.dropOne() {
				break
			}
		}
	}
	p.bytes.made(size)
}

// dropOne lets go of one kept buffer, if any.
func (p *bufferPool) dropOne() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) == 0 {
		return false
	}
	last := len(p.free) - 1
	p.bytes.dropped(cap(p.free[last]))
	p.free[last] = nil
	p.free = p.free[:last]
	return true
}

// put keeps b for a later get, unless the pool is full or the pull's
// buffers are over their limit.
func (p *bufferPool) put(b []byte) {
	if cap(b) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) < p.keep && p.bytes.room(0) {
		p.free = append(p.free, b)
		return
	}
	p.bytes.dropped(cap(b))
}
