package blobber

import (
	"context"
	"errors"
	"io"
	"sync"

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
// What it holds is bounded by the client's stream budget, like a file
// read's chunk stream: the buffers of the chunks kept, of those in flight
// and the free ones kept for reuse (reusing them spares the allocation
// and page faults of a fresh chunk-sized buffer per chunk). A chunk that
// a read needs is fetched even past the budget, after dropping every
// chunk no read is using, so that a chunk bigger than the budget still
// reads.
type mountReader struct {
	img    *Image
	e      *toc.Entry
	ctx    context.Context
	cancel context.CancelFunc
	budget int64
	// bufSize is the size of every buffer: enough for the compressed
	// bytes or the decoded bytes of the file's biggest chunk.
	bufSize int64

	mu      sync.Mutex
	chunks  map[int]*mountChunk
	free    [][]byte
	held    int64 // bytes of all the buffers, kept, in flight or free
	peak    int64 // held at its highest, for tests
	fetched int   // chunks fetched, for tests
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
	ready chan struct{}
	data  []byte // the decoded bytes, in buf
	buf   []byte
	err   error
	users int // reads copying from data
}

// mountReorderWindow is how far before the furthest read a read may still
// arrive: the kernel sends its readahead (4 MiB, as root) in requests of up
// to mountMaxRead, several at once, which the server may take in any
// order. A sequential reader keeps the chunks that far back, budget
// allowing.
const mountReorderWindow = 8 << 20

// mountDecodeSlack is room past a chunk's bytes in a decode buffer: the
// gzip decoder reads on to the end of the member (the member's CRC) when it
// is near, and allocates a buffer of its own when there is no room.
const mountDecodeSlack = 64 << 10

func (img *Image) newMountReader(e *toc.Entry) *mountReader {
	var size int64
	for _, c := range e.Chunks {
		size = max(size, img.index.Need(c), c.InnerOffset+c.Size+mountDecodeSlack)
	}
	ctx, cancel := context.WithCancel(img.ctx)
	return &mountReader{img: img, e: e, ctx: ctx, cancel: cancel, budget: img.client.opts.streamBudget,
		bufSize: size, chunks: map[int]*mountChunk{}, furthest: -1, ahead: 1}
}

// ReadAt fills p with the file's bytes from off, or fewer at the end of
// the file.
func (r *mountReader) ReadAt(p []byte, off int64) (int, error) {
	parts, release, err := r.slices(off, len(p))
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
	need, err := r.claim(off, first, last)
	if err != nil {
		return nil, nil, err
	}
	release := func() { r.unclaim(need) }
	parts := make([][]byte, 0, len(need))
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
		c := r.e.Chunks[first+i]
		from, to := max(off, c.FileOffset)-c.FileOffset, min(end, c.FileOffset+c.Size)-c.FileOffset
		parts = append(parts, ch.data[from:to])
	}
	return parts, release, nil
}

// claim marks chunks first to last, which a read from off covers, as in
// use by it, starting the fetch of those not had yet, and on a sequential
// read the fetch of the chunks after them.
func (r *mountReader) claim(off int64, first, last int) ([]*mountChunk, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, errors.New("file closed")
	}
	_, had := r.chunks[first]
	sequential := had || (r.furthest >= 0 && first >= r.furthest-1 && first <= r.furthest+1)
	if sequential {
		// What the reader has left behind is not read again (the kernel
		// keeps what it was given), but for what reads the kernel sent
		// earlier may still be on their way for.
		r.dropBelow(chunkAt(r.e, off-mountReorderWindow))
		r.furthest = max(r.furthest, last)
	} else {
		r.ahead = 1
		r.furthest = last
	}
	need := make([]*mountChunk, 0, last-first+1)
	for i := first; i <= last; i++ {
		ch := r.chunks[i]
		if ch == nil {
			ch = r.start(i, true)
		}
		ch.users++
		need = append(need, ch)
	}
	if sequential {
		for i := last + 1; i <= last+r.ahead && i < len(r.e.Chunks); i++ {
			if r.chunks[i] == nil && r.start(i, false) == nil {
				break
			}
		}
		r.ahead = min(2*r.ahead, r.img.client.opts.concurrency)
	}
	return need, nil
}

func (r *mountReader) unclaim(need []*mountChunk) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ch := range need {
		ch.users--
	}
}

// start fetches chunk i in the background, with buffers from the free
// list or new ones. A fetch ahead (needed false) starts only within the
// budget, and returns nil otherwise; a needed one drops what no read uses
// to make room, and goes past the budget if it must.
func (r *mountReader) start(i int, needed bool) *mountChunk {
	for r.held+r.newBytes(2) > r.budget {
		if !r.dropOne(i, needed) {
			if !needed {
				return nil
			}
			break
		}
	}
	comp, buf := r.takeBuf(), r.takeBuf()
	ch := &mountChunk{ready: make(chan struct{}), buf: buf}
	r.chunks[i] = ch
	r.fetched++
	c := r.e.Chunks[i]
	go func() {
		data, err := r.fetch(c, comp, buf)
		r.mu.Lock()
		ch.data, ch.err = data, err
		if err != nil || cap(data) == 0 || &data[:1][0] != &buf[:1][0] {
			// The decoder did not use buf (an error, or no room).
			ch.buf = nil
			r.free = append(r.free, buf)
		}
		if err != nil && r.chunks[i] == ch {
			// The reads waiting for it fail; a later one tries again.
			delete(r.chunks, i)
		}
		r.free = append(r.free, comp)
		close(ch.ready)
		r.mu.Unlock()
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

// newBytes is what taking n buffers adds to held.
func (r *mountReader) newBytes(n int) int64 {
	return int64(max(0, n-len(r.free))) * r.bufSize
}

func (r *mountReader) takeBuf() []byte {
	if k := len(r.free); k > 0 {
		b := r.free[k-1]
		r.free = r.free[:k-1]
		return b
	}
	r.held += r.bufSize
	r.peak = max(r.peak, r.held)
	return make([]byte, r.bufSize)
}

// dropOne frees room for a fetch: a free buffer beyond the two a fetch
// takes, else, for a chunk a read needs (needed), the buffer of a chunk no
// read is using, the furthest from chunk i first. A fetch ahead takes no
// chunk's room: a sequential read has let go of what it left behind
// already, and what it kept, reads the kernel sent earlier may still want.
// It reports whether it freed anything.
func (r *mountReader) dropOne(i int, needed bool) bool {
	if k := len(r.free); k > 2 {
		r.free = r.free[:k-1]
		r.held -= r.bufSize
		return true
	}
	victim, dist := -1, -1
	for j, ch := range r.chunks {
		if !needed || ch.users > 0 || !isReady(ch) {
			continue
		}
		if d := max(j-i, i-j); d > dist {
			victim, dist = j, d
		}
	}
	if victim < 0 {
		return false
	}
	r.drop(victim)
	return true
}

// dropBelow lets go of the chunks before i that no read uses.
func (r *mountReader) dropBelow(i int) {
	for j, ch := range r.chunks {
		if j < i && ch.users == 0 && isReady(ch) {
			r.drop(j)
		}
	}
}

func (r *mountReader) drop(j int) {
	ch := r.chunks[j]
	delete(r.chunks, j)
	if ch.buf != nil {
		r.free = append(r.free, ch.buf)
		ch.buf, ch.data = nil, nil
	}
}

func isReady(ch *mountChunk) bool {
	select {
	case <-ch.ready:
		return true
	default:
		return false
	}
}

// Close stops the fetches in flight and lets go of every buffer.
func (r *mountReader) Close() {
	r.cancel()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	r.chunks, r.free = nil, nil
}
