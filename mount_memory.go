package blobber

import (
	"context"
	"sync"
	"time"
)

// mountBudget is how many bytes of chunk buffers a whole mount holds,
// however many files are open: the compressed and decoded bytes of the
// chunks being fetched, the decoded chunks kept for reads, and free
// buffers kept for reuse. It is room for four buffers of a chunk of the
// default size (4 MiB, and the decoder's slack): a sequential reader of
// such a file reads one chunk while the next is fetched and decoded, and
// the one after waits ready, or two are fetched at once. More would keep
// the heap at the soft memory limit the CLI sets, where the collector
// runs all the time; the process (the Go runtime, FUSE's request buffers,
// the table of contents) stays within 64 MiB.
const mountBudget = 4 * (4<<20 + mountDecodeSlack)

// mountBufferAlign rounds buffer sizes up, so that buffers of chunks of
// about the same size fit one another's needs.
const mountBufferAlign = 64 << 10

// alignedBuffer is the size of the buffer take gives for n bytes.
func alignedBuffer(n int64) int64 {
	return (n + mountBufferAlign - 1) / mountBufferAlign * mountBufferAlign
}

// mountMemory is the one budget of a mount's chunk buffers, shared by the
// mountReaders of all its open files, and the lock that guards them: their
// chunks are what it makes room from. A read takes room for the chunks it
// needs all at once, holding nothing while it waits for it, and what holds
// room (a fetch in flight, a chunk a reply is being written from) always
// lets go of it without waiting for another read, so reads never wait on
// one another in a circle. No read needs more than the whole budget: a
// chunk that does not fit it alone is refused, and the chunks of a read
// that do not fit it together are read one at a time (mount_room.go).
type mountMemory struct {
	budget int64

	mu      sync.Mutex
	readers map[*mountReader]struct{}
	free    [][]byte
	held    int64 // bytes of all the buffers: kept, in flight or free
	peak    int64 // held at its highest, for tests
	busy    int   // chunks being fetched or read from: their room cannot be had
	fetched int   // chunks fetched, for tests
	waiting int   // reads waiting for room: no fetch ahead takes any then
	// retryAt is when the first chunk that a fetch could not drop, being
	// in use lately (mountChunkIdle), may be dropped; zero if none.
	retryAt time.Time
	// changed is closed, and replaced, whenever room may have come free.
	changed chan struct{}
}

func newMountMemory(budget int64) *mountMemory {
	return &mountMemory{budget: max(budget, 1), readers: map[*mountReader]struct{}{}, changed: make(chan struct{})}
}

// notify wakes the reads waiting for room. The caller holds mu.
func (m *mountMemory) notify() {
	close(m.changed)
	m.changed = make(chan struct{})
}

// wait lets go of mu until room may have come free (retryAt included) or
// ctx ends. The caller holds mu, and holds it again when wait returns.
func (m *mountMemory) wait(ctx context.Context) error {
	ch := m.changed
	var expired <-chan time.Time
	if !m.retryAt.IsZero() {
		t := time.NewTimer(time.Until(m.retryAt))
		defer t.Stop()
		expired = t.C
	}
	m.waiting++
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.waiting--
	}()
	select {
	case <-ch:
		return nil
	case <-expired:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// take returns a buffer of n bytes or more: a free one that fits, or a
// new one within the budget, after dropping the free buffers that do not
// fit and the chunks no read is using that evictable allows (whose buffers
// may fit). Past the budget it returns nil, unless force. The caller
// holds mu.
func (m *mountMemory) take(n int64, evictable chunkUse, force bool) []byte {
	size := alignedBuffer(n)
	for {
		if b := m.takeFree(n, size); b != nil {
			return b
		}
		if m.held+size <= m.budget || !(m.dropFree() || m.evictOne(evictable)) {
			break
		}
	}
	if m.held+size > m.budget && !force {
		return nil
	}
	m.held += size
	m.peak = max(m.peak, m.held)
	return make([]byte, size)
}

// takeFree takes the smallest free buffer of n bytes or more that is not
// much bigger than size, if there is one. The caller holds mu.
func (m *mountMemory) takeFree(n, size int64) []byte {
	best := -1
	for i, b := range m.free {
		if c := int64(cap(b)); c >= n && c <= size+size/4 && (best < 0 || c < int64(cap(m.free[best]))) {
			best = i
		}
	}
	if best < 0 {
		return nil
	}
	b := m.free[best]
	m.free[best] = m.free[len(m.free)-1]
	m.free = m.free[:len(m.free)-1]
	return b[:cap(b)]
}

// give puts buffers back on the free list. The caller holds mu.
func (m *mountMemory) give(bufs ...[]byte) {
	for _, b := range bufs {
		if b != nil {
			m.free = append(m.free, b)
		}
	}
}

// dropFree lets go of the biggest free buffer, reporting whether there was
// one. The caller holds mu.
func (m *mountMemory) dropFree() bool {
	if len(m.free) == 0 {
		return false
	}
	big := 0
	for i, b := range m.free {
		if cap(b) > cap(m.free[big]) {
			big = i
		}
	}
	m.held -= int64(cap(m.free[big]))
	m.free[big] = m.free[len(m.free)-1]
	m.free = m.free[:len(m.free)-1]
	return true
}

// chunkUse ranks the chunks no read is using by how soon a read may want
// them, the first to drop first.
type chunkUse int

const (
	chunkReadAll   chunkUse = iota // all its bytes read: a read again is rare
	chunkReadSome                  // left partly read, by a random read or a reader that moved on
	chunkReadAhead                 // fetched ahead and not read yet: its reader comes for it next
)

func (ch *mountChunk) use() chunkUse {
	switch {
	case ch.read >= int64(len(ch.data)):
		return chunkReadAll
	case ch.read > 0:
		return chunkReadSome
	}
	return chunkReadAhead
}

// mountChunkIdle is how long a chunk not read all through stays safe from
// the fetches of other reads after it was last used (or fetched ahead):
// the reader it is for is taken to have gone on or gone away only then.
// Without it, files read at once with too little room for all their
// chunks would each drop the chunk another is in the middle of, and fetch
// every chunk again and again.
const mountChunkIdle = 200 * time.Millisecond

// evictOne drops a chunk, of any open file, that no read is using, that
// ranks up to upTo and, unless read all through, has been idle for
// mountChunkIdle; it reports whether there was one, and its buffer goes to
// the free list. Of chunks of one rank, the least recently used goes
// first; but of those fetched ahead, the most recently fetched (the
// furthest ahead of its reader, which wants it last). It sets retryAt to
// when the first chunk it spared for being used lately becomes idle. The
// caller holds mu.
func (m *mountMemory) evictOne(upTo chunkUse) bool {
	now := time.Now()
	var victim *mountReader
	var worst *mountChunk
	for r := range m.readers {
		for _, ch := range r.chunks {
			if ch.users > 0 || !isReady(ch) || ch.use() > upTo {
				continue
			}
			if idle := ch.lastUse.Add(mountChunkIdle); ch.use() != chunkReadAll && now.Before(idle) {
				if m.retryAt.IsZero() || idle.Before(m.retryAt) {
					m.retryAt = idle
				}
				continue
			}
			if worst == nil || evictBefore(ch, worst) {
				victim, worst = r, ch
			}
		}
	}
	if victim == nil {
		return false
	}
	victim.drop(worst.index)
	return true
}

// evictBefore tells whether chunk a is to be dropped before chunk b.
func evictBefore(a, b *mountChunk) bool {
	if ua, ub := a.use(), b.use(); ua != ub {
		return ua < ub
	}
	if a.use() == chunkReadAhead {
		return a.lastUse.After(b.lastUse)
	}
	return a.lastUse.Before(b.lastUse)
}

// releaseIdle lets go of every free buffer once no file is open: an idle
// mount holds no chunk memory. The caller holds mu.
func (m *mountMemory) releaseIdle() {
	if len(m.readers) > 0 {
		return
	}
	for m.dropFree() {
	}
}
