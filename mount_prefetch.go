package blobber

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/blobber-dev/blobber/internal/toc"
)

// mountReader serves the reads of one open file of a mount from whole
// chunks, each fetched and verified once and kept by its index, so that
// the reads the kernel sends concurrently and out of order (its readahead
// runs in the background) share them. Reads that keep to the part of the
// file read last are taken as a sequential reader, and the chunks after
// them are fetched ahead in parallel, more of them as the reader keeps
// going; any other read fetches just the chunks it covers.
//
// Its buffers come from the mount's one budget (mountMemory), whose lock
// guards the reader's chunks too. A chunk is kept until the file is
// closed, or until a fetch, of this file or another, takes its room: a
// fetch a read needs takes the room of any chunk no read is using, a fetch
// ahead only that of chunks whose bytes have all been read (the kernel
// keeps what it was given), so that fetches ahead never drop one another.
type mountReader struct {
	img    *Image
	e      *toc.Entry
	ctx    context.Context
	cancel context.CancelFunc
	mem    *mountMemory

	// Guarded by mem.mu.
	chunks map[int]*mountChunk
	// furthest is the last chunk of the furthest read so far, -1 before
	// the first read; ahead is how many chunks past a sequential read to
	// fetch.
	furthest int
	ahead    int
	closed   bool
}

// mountChunk is one chunk of a mountReader: being fetched until ready is
// closed, then its verified bytes or why they could not be had.
type mountChunk struct {
	index int
	ready chan struct{}
	data  []byte // the decoded bytes, in buf
	buf   []byte
	err   error
	// Guarded by mem.mu: the reads copying from data, the bytes of data
	// read so far, and when a read last claimed it, or its fetch ended.
	users   int
	read    int64
	lastUse time.Time
}

// mountReorderWindow is how far before the furthest read a read may still
// arrive: the kernel sends its readahead (4 MiB, as root) in requests of up
// to mountMaxRead, several at once, which the server may take in any
// order. A sequential reader keeps the chunks that far back that it has
// not read all of, budget allowing.
const mountReorderWindow = 8 << 20

// mountDecodeSlack is room past a chunk's bytes in a decode buffer: the
// gzip decoder reads on to the end of the member (the member's CRC) when it
// is near, and allocates a buffer of its own when there is no room.
const mountDecodeSlack = 64 << 10

var errMountFileClosed = errors.New("file closed")

// newReader returns the reader of an open file e of img, whose chunks take
// their room from m.
func (m *mountMemory) newReader(img *Image, e *toc.Entry) *mountReader {
	ctx, cancel := context.WithCancel(img.ctx)
	r := &mountReader{img: img, e: e, ctx: ctx, cancel: cancel, mem: m, chunks: map[int]*mountChunk{}, furthest: -1, ahead: 1}
	m.mu.Lock()
	m.readers[r] = struct{}{}
	m.mu.Unlock()
	return r
}

// ReadAt fills p with the file's bytes from off, or fewer at the end of
// the file.
func (r *mountReader) ReadAt(p []byte, off int64) (int, error) {
	parts, release, err := r.slices(off, len(p))
	if errors.Is(err, errMountReadSplit) {
		return r.readByChunk(p, off)
	}
	if err != nil {
		return 0, err
	}
	defer release()
	n := 0
	for _, part := range parts {
		n += copy(p[n:], part)
	}
	return n, nil
}

// slices is the file's bytes from off on, n of them or fewer at the end of
// the file, as pieces of the chunks that hold them: they stay good until
// release is called, which must be, once.
func (r *mountReader) slices(off int64, n int) ([][]byte, func(), error) {
	size := r.e.Size
	if off >= size || n <= 0 {
		return nil, func() {}, nil
	}
	end := min(off+int64(n), size)
	first, last := chunkAt(r.e, off), chunkAt(r.e, end-1)
	if err := r.checkRoom(first, last); err != nil {
		if errors.Is(err, errMountReadSplit) {
			return nil, nil, err
		}
		return nil, nil, r.img.wrapRead(r.e, err)
	}
	need, err := r.claim(off, first, last)
	if err != nil {
		return nil, nil, err
	}
	parts := make([][]byte, len(need))
	release := func() { r.unclaim(need, parts) }
	for i, ch := range need {
		select {
		case <-ch.ready:
		case <-r.ctx.Done():
			release()
			return nil, nil, r.ctx.Err()
		}
		if ch.err != nil {
			release()
			return nil, nil, r.img.wrapRead(r.e, ch.err)
		}
		c := r.e.Chunk(first + i)
		from, to := max(off, c.FileOffset)-c.FileOffset, min(end, c.FileOffset+c.Size)-c.FileOffset
		parts[i] = ch.data[from:to]
	}
	return parts, release, nil
}

// claim marks chunks first to last, which a read from off covers, as in
// use by it, starting the fetch of those not had yet once there is room
// for all of them, and on a sequential read the fetch of the chunks after
// them, as far as free room goes.
func (r *mountReader) claim(off int64, first, last int) ([]*mountChunk, error) {
	m := r.mem
	m.mu.Lock()
	defer m.mu.Unlock()
	_, had := r.chunks[first]
	sequential := had || (r.furthest >= 0 && first >= r.furthest-1 && first <= r.furthest+1)
	if sequential {
		// What the reader has left behind is not read again, but for what
		// reads the kernel sent earlier may still be on their way for.
		r.dropBelow(chunkAt(r.e, off-mountReorderWindow))
	}
	var need []*mountChunk
	for force := false; ; {
		if r.closed {
			return nil, errMountFileClosed
		}
		var ok bool
		if need, ok = r.claimAll(first, last, force); ok {
			break
		}
		// This read holds nothing now. If nothing else is busy or spared
		// for a while, waiting frees no more room: the read needs more
		// than the budget, and goes past it rather than wait for ever
		// (checkRoom keeps reads from needing that much).
		if m.busy == 0 && m.retryAt.IsZero() {
			force = true
			continue
		}
		if err := m.wait(r.ctx); err != nil {
			return nil, err
		}
	}
	// Used now: a read that only tried to claim them, and waits, does not
	// keep them from being dropped for another's, or reads could wait on
	// one another for ever.
	now := time.Now()
	for _, ch := range need {
		ch.lastUse = now
	}
	if sequential {
		// From past the furthest read: the chunks before it were fetched
		// already, and those dropped since have been read. Not while
		// reads wait for room: they come first.
		r.furthest = max(r.furthest, last)
		for i := r.furthest + 1; i <= r.furthest+r.ahead && i < r.e.NumChunks() && m.waiting == 0; i++ {
			if r.chunks[i] == nil && r.start(i, false, false) == nil {
				break
			}
		}
		r.ahead = min(2*r.ahead, r.img.client.opts.concurrency)
	} else {
		r.ahead = 1
		r.furthest = last
	}
	return need, nil
}

// claimAll marks chunks first to last as in use, fetching those missing;
// if there is no room for one, it lets go of them all again and reports
// false. The caller holds mem.mu.
func (r *mountReader) claimAll(first, last int, force bool) ([]*mountChunk, bool) {
	r.mem.retryAt = time.Time{}
	claimed := make([]*mountChunk, 0, last-first+1)
	for i := first; i <= last; i++ {
		ch := r.chunks[i]
		if ch == nil {
			// The chunks claimed already are in use: taking room for
			// this one does not drop them.
			if ch = r.start(i, true, force); ch == nil {
				for _, c := range claimed {
					r.unuse(c)
				}
				return nil, false
			}
		}
		r.use(ch)
		claimed = append(claimed, ch)
	}
	return claimed, true
}

func (r *mountReader) use(ch *mountChunk) {
	if ch.users == 0 && isReady(ch) {
		r.mem.busy++
	}
	ch.users++
}

// unuse undoes use. The caller holds mem.mu.
func (r *mountReader) unuse(ch *mountChunk) {
	ch.users--
	if ch.users == 0 && isReady(ch) {
		r.mem.busy--
		r.mem.notify()
	}
}

// unclaim lets go of the chunks a read claimed, counting the bytes read
// from each.
func (r *mountReader) unclaim(need []*mountChunk, parts [][]byte) {
	m := r.mem
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, ch := range need {
		r.unuse(ch)
		ch.read += int64(len(parts[i]))
		if ch.users == 0 && r.closed && r.chunks[ch.index] == ch {
			r.drop(ch.index)
		}
	}
}

// start fetches chunk i in the background. A fetch a read needs
// (needed) may drop chunks no read uses to make room, and go past the
// budget if force; a fetch ahead drops only chunks read already. It
// returns nil when there is no room. The caller holds mem.mu.
func (r *mountReader) start(i int, needed, force bool) *mountChunk {
	m := r.mem
	c := r.e.Chunk(i)
	evictable := chunkReadAll
	if needed {
		evictable = chunkReadAhead
	}
	comp := m.take(r.img.index.Need(c), evictable, force)
	if comp == nil {
		return nil
	}
	buf := m.take(c.InnerOffset+c.Size+mountDecodeSlack, evictable, force)
	if buf == nil {
		m.give(comp)
		return nil
	}
	ch := &mountChunk{index: i, ready: make(chan struct{}), buf: buf, lastUse: time.Now()}
	r.chunks[i] = ch
	m.fetched++
	m.busy++
	go func() {
		data, err := r.fetch(c, comp, buf)
		m.mu.Lock()
		defer m.mu.Unlock()
		ch.data, ch.err, ch.lastUse = data, err, time.Now()
		if err != nil || cap(data) == 0 || &data[:1][0] != &buf[:1][0] {
			// The decoder did not use buf (an error, or no room).
			ch.buf = nil
			m.give(buf)
		}
		if err != nil && r.chunks[i] == ch {
			// The reads waiting for it fail; a later one tries again.
			delete(r.chunks, i)
		}
		m.give(comp)
		close(ch.ready)
		if ch.users == 0 {
			m.busy--
			if r.closed && r.chunks[i] == ch {
				r.drop(i)
			}
		}
		if r.closed {
			m.releaseIdle()
		}
		m.notify()
	}()
	return ch
}

// fetch reads and verifies chunk c, as Image.fetchChunk does, into the
// given buffers.
func (r *mountReader) fetch(c toc.Chunk, comp, dst []byte) ([]byte, error) {
	if err := r.ctx.Err(); err != nil {
		return nil, err
	}
	need := r.img.index.Need(c)
	var data []byte
	err := r.img.retryUncached(int(c.Layer), c.Offset, need, func() error {
		in := comp[:need]
		n, err := r.img.layers[c.Layer].ReadAt(in, c.Offset)
		if err != nil && err != io.EOF {
			return err
		}
		// What a short read left of an earlier chunk reads as zeros, as
		// a fresh buffer would.
		clear(in[n:])
		data, err = r.img.index.Decode(in, c, dst[:0])
		return err
	})
	return data, err
}

// dropBelow lets go of the chunks before i that no read uses. The caller
// holds mem.mu.
func (r *mountReader) dropBelow(i int) {
	for j, ch := range r.chunks {
		if j < i && ch.users == 0 && isReady(ch) {
			r.drop(j)
		}
	}
}

// drop lets go of chunk j, which no read uses; its buffer goes to the
// free list. The caller holds mem.mu.
func (r *mountReader) drop(j int) {
	ch := r.chunks[j]
	delete(r.chunks, j)
	if ch.buf != nil {
		r.mem.give(ch.buf)
		ch.buf, ch.data = nil, nil
	}
	r.mem.notify()
}

func isReady(ch *mountChunk) bool {
	select {
	case <-ch.ready:
		return true
	default:
		return false
	}
}

// Close stops the fetches in flight and lets go of every chunk: those in
// flight or in use as they end.
func (r *mountReader) Close() {
	r.cancel()
	m := r.mem
	m.mu.Lock()
	defer m.mu.Unlock()
	r.closed = true
	for j, ch := range r.chunks {
		if ch.users == 0 && isReady(ch) {
			r.drop(j)
		}
	}
	delete(m.readers, r)
	m.releaseIdle()
}
