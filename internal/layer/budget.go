package layer

import (
	"context"
	"slices"
	"sync"

	"golang.org/x/sync/semaphore"
)

// buildBudget bounds what the batches sent to the workers hold, until the
// ordered writer has written them: their bytes (their content, and as much
// again for it compressed), so that a tree of chunk-sized files holds no
// more than a tree of small ones; and their number, one per worker and
// one being written, so that many batches of headers do not pile up
// either.
type buildBudget struct {
	sem     *semaphore.Weighted
	limit   int64
	batches chan struct{}
}

// newBuildBudget makes room for two batches of a full chunk each, being
// compressed or written, and for more batches of small files. More
// workers share the same bytes: a build's memory does not grow with the
// machine's cores.
func newBuildBudget(chunkSize, workers int) *buildBudget {
	limit := 2 * 2 * int64(chunkSize+batchTarget)
	return &buildBudget{sem: semaphore.NewWeighted(limit), limit: limit, batches: make(chan struct{}, workers+1)}
}

// acquire waits until b fits, or ctx ends. A batch larger than all of the
// bytes takes all of them, so it goes alone and the build always makes
// progress.
func (bb *buildBudget) acquire(ctx context.Context, b *batch) error {
	select {
	case bb.batches <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	b.cost = min(bb.limit, 2*int64(b.size)+1)
	if err := bb.sem.Acquire(ctx, b.cost); err != nil {
		<-bb.batches
		return err
	}
	return nil
}

// release gives back what b took, once it is written.
func (bb *buildBudget) release(b *batch) {
	bb.sem.Release(b.cost)
	<-bb.batches
}

// buildBuffers are the pools of a build's buffers: those of members'
// content, about a chunk or a batch each, and those of batches compressed,
// of every size up to a batch and a chunk. In one pool, the walker took
// the large buffers for its chunks, and the compressed batches found none
// left their size.
type buildBuffers struct {
	content, compressed *bufferPool
	// arenas holds the arenas of small members (see newMember), all of one
	// size, apart: in the content pool, an arena would take a kept chunk's
	// buffer, and a chunk would drop the kept arenas, too small for it.
	arenas *bufferPool
}

// newBuildBuffers keeps at most limit bytes, half in each of the content
// and compressed pools, and a quarter more in arenas (what the batches in
// flight of two workers hold, and the one being filled): what the
// pipeline holds at once, given back as it drains, is kept for when it
// fills again. (More makes the heap of a push of mixed sizes sit at the
// CLI's soft memory limit, where the collector runs at every allocation.)
// The content and compressed pools keep codecHeld bytes less, what the
// codec holds for the whole build beyond gzip's writers (zstd's history):
// a zstd build then keeps about what a gzip build does.
func newBuildBuffers(limit, codecHeld int64) *buildBuffers {
	spare := max(limit-codecHeld, 0)
	return &buildBuffers{content: newBufferPool(spare / 2), compressed: newBufferPool(spare / 2), arenas: newBufferPool(limit / 4)}
}

// bufferPool recycles a build's large buffers so that a build makes about
// as many as it holds at once, not one per chunk: each new one costs the
// collector, which runs often under the CLI's soft memory limit, and the
// kernel, which zeroes its pages. What it keeps is not in flight, so it
// keeps at most limit bytes, on top of what the build's budget lets be in
// flight. A request takes the smallest kept buffer that is large enough,
// however large: the bytes it holds beyond the request are outside the
// budget, but the budget's count of batches bounds how many are in flight.
// When none is large enough, the kept ones smaller than the request are
// dropped: the pool follows the sizes asked.
type bufferPool struct {
	mu    sync.Mutex
	free  [][]byte
	kept  int // bytes in free
	limit int
	made  int64 // bytes of the buffers get made, for the tests
}

func newBufferPool(limit int64) *bufferPool { return &bufferPool{limit: int(limit)} }

// bufferRounding is the step of the pooled buffers' sizes; smaller
// buffers are allocated as asked and left to the collector.
const bufferRounding = 256 << 10

// bufferSize is the capacity of a buffer of at least n bytes.
func bufferSize(n int) int {
	if n < bufferRounding {
		return n
	}
	return (n + bufferRounding - 1) / bufferRounding * bufferRounding
}

func pooled(c int) bool { return c >= bufferRounding && bufferSize(c) == c }

// get returns an empty buffer of at least capacity bytes.
func (p *bufferPool) get(capacity int) []byte {
	size := bufferSize(capacity)
	if !pooled(size) {
		return make([]byte, 0, size)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	best := -1
	for i, b := range p.free {
		if c := cap(b); c >= size && (best < 0 || c < cap(p.free[best])) {
			best = i
		}
	}
	if best >= 0 {
		b := p.free[best]
		p.free = slices.Delete(p.free, best, best+1)
		p.kept -= cap(b)
		return b[:0]
	}
	p.free = slices.DeleteFunc(p.free, func(b []byte) bool {
		if cap(b) < size {
			p.kept -= cap(b)
			return true
		}
		return false
	})
	p.made += int64(size)
	return make([]byte, 0, size)
}

// put gives back b once nothing uses it. When the pool is full, b takes
// the place of smaller kept buffers if that makes room: a large buffer
// serves any request, a small one only small ones.
func (p *bufferPool) put(b []byte) {
	c := cap(b)
	if !pooled(c) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.kept+c > p.limit && len(p.free) > 0 {
		smallest := 0
		for i, f := range p.free {
			if cap(f) < cap(p.free[smallest]) {
				smallest = i
			}
		}
		if cap(p.free[smallest]) >= c {
			return
		}
		p.kept -= cap(p.free[smallest])
		p.free = slices.Delete(p.free, smallest, smallest+1)
	}
	if p.kept+c <= p.limit {
		p.free = append(p.free, b)
		p.kept += c
	}
}

// grow returns b with room for n more bytes: b itself, or a buffer from
// the pool that b is copied to, b given back.
func (p *bufferPool) grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	bigger := append(p.get(max(2*cap(b), len(b)+n)), b...)
	p.put(b)
	return bigger
}
