package blobber

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"sync"

	"github.com/blobber-dev/blobber/internal/pull"
	"github.com/blobber-dev/blobber/internal/toc"
)

// file is an open regular file of an Image. Sequential reads stream its
// chunks with a read-ahead window that grows while the reader keeps going;
// ReadAt fetches just the chunks it covers.
type file struct {
	img  *Image
	info fileInfo
	e    *toc.Entry

	mu     sync.Mutex
	off    int64
	stream *chunkStream
	closed bool
	last   struct { // the chunk ReadAt decoded last
		index int
		data  []byte
	}
}

var (
	_ io.ReaderAt = (*file)(nil)
	_ io.Seeker   = (*file)(nil)
)

func (f *file) Stat() (fs.FileInfo, error) { return f.info, nil }

func (f *file) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, fs.ErrClosed
	}
	if f.off >= f.e.Size {
		return 0, io.EOF
	}
	if f.stream == nil || f.stream.pos != f.off {
		f.stopStream()
		f.stream = f.img.newChunkStream(f.e, f.off, 1, false)
	}
	n, err := f.stream.Read(p)
	f.off += int64(n)
	if err == io.EOF && f.off < f.e.Size {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (f *file) ReadAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, fs.ErrClosed
	}
	if off < 0 {
		return 0, &fs.PathError{Op: "readat", Path: f.info.name, Err: fs.ErrInvalid}
	}
	n := 0
	for n < len(p) && off < f.e.Size {
		i := chunkAt(f.e, off)
		if f.last.data == nil || f.last.index != i {
			data, err := f.img.fetchChunk(f.e.Chunk(i), f.last.data)
			if err != nil {
				f.last.data = nil
				return n, f.img.wrapRead(f.e, err)
			}
			f.last.index, f.last.data = i, data
		}
		c := f.e.Chunk(i)
		m := copy(p[n:], f.last.data[off-c.FileOffset:])
		n += m
		off += int64(m)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *file) Seek(offset int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, fs.ErrClosed
	}
	switch whence {
	case io.SeekCurrent:
		offset += f.off
	case io.SeekEnd:
		offset += f.e.Size
	}
	if offset < 0 {
		return 0, &fs.PathError{Op: "seek", Path: f.info.name, Err: fs.ErrInvalid}
	}
	f.off = offset
	return offset, nil
}

func (f *file) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return fs.ErrClosed
	}
	f.closed = true
	f.stopStream()
	return nil
}

func (f *file) stopStream() {
	if f.stream != nil {
		f.stream.Close()
		f.stream = nil
	}
}

// chunkAt is the index of the chunk holding byte off of the file.
func chunkAt(e *toc.Entry, off int64) int {
	return sort.Search(e.NumChunks(), func(i int) bool {
		c := e.Chunk(i)
		return c.FileOffset+c.Size > off
	})
}

// wrapRead names the artifact and file in a read error.
func (img *Image) wrapRead(e *toc.Entry, err error) error {
	return wrapf(err, "reading %s from %s", e.Name, img.name)
}

// chunkStream yields a file's bytes from an offset on, fetching chunks in
// parallel ahead of the reader and handing them out in order.
type chunkStream struct {
	img     *Image
	e       *toc.Entry
	ctx     context.Context
	cancel  context.CancelFunc
	pos     int64 // file offset of the next byte Read returns
	next    int   // next chunk to schedule
	window  int
	pending []pendingChunk
	cur     []byte
	// skipFirst is where the offset the stream starts at lies in its
	// first chunk.
	skipFirst int64
	// budget bounds the bytes of the chunks pending and of cur; held is
	// what they take (curCost for cur) and peak its highest, for tests.
	budget        *pull.Budget
	held, curCost int64
	peak          int64
	// turn, for a stream that reads in order (see readInOrder), is the
	// turn of the chunk scheduled next to read its bytes.
	turn chan struct{}
}

type pendingChunk struct {
	result chan chunkResult
	cost   int64
}

type chunkResult struct {
	data []byte
	err  error
}

// streamBudget is the default of options.streamBudget.
const streamBudget = pull.StreamBudget

// chunkCost is what reading chunk c holds in memory: its compressed bytes
// and what it decodes to (the member from its start).
func (img *Image) chunkCost(c toc.Chunk) int64 {
	return img.index.Need(c) + c.InnerOffset + c.Size
}

// newChunkStream starts a stream of e's bytes from off. One that will be
// read to the file's end (inOrder) asks for the rest of the file's chunks
// in one request (see readInOrder).
func (img *Image) newChunkStream(e *toc.Entry, off int64, window int, inOrder bool) *chunkStream {
	ctx, cancel := context.WithCancel(img.ctx)
	s := &chunkStream{img: img, e: e, ctx: ctx, cancel: cancel, pos: off, next: chunkAt(e, off), window: max(1, window),
		budget: pull.NewBudget(img.client.opts.streamBudget)}
	if s.next < e.NumChunks() {
		s.skipFirst = off - e.Chunk(s.next).FileOffset
	}
	if inOrder {
		s.readInOrder()
	}
	s.fill()
	return s
}

// readInOrder tells the layer that the stream's chunks, one stretch of
// it, will be read in order, so that the registry is asked for them in
// one request (fetch.Blob.ReadAhead) rather than one a chunk; the chunks
// then read their bytes in turn, and are decoded in parallel as before.
func (s *chunkStream) readInOrder() {
	n := s.e.NumChunks()
	if n-s.next < 2 {
		return
	}
	first, last := s.e.Chunk(s.next), s.e.Chunk(n-1)
	if first.Layer != last.Layer {
		return
	}
	readAhead(s.img.layers[first.Layer], first.Offset, last.Offset+s.img.index.Need(last)-first.Offset)
	s.turn = make(chan struct{})
	close(s.turn)
}

// inTurn is a layer's reader for one chunk of a stream that reads in
// order: its read waits for the chunk before it to have read, and pass
// then lets the next one read.
type inTurn struct {
	io.ReaderAt
	ctx  context.Context
	turn <-chan struct{}
	next chan struct{}
	once sync.Once
}

func (r *inTurn) ReadAt(p []byte, off int64) (int, error) {
	defer r.pass()
	select {
	case <-r.turn:
	case <-r.ctx.Done():
		return 0, r.ctx.Err()
	}
	return r.ReaderAt.ReadAt(p, off)
}

func (r *inTurn) pass() { r.once.Do(func() { close(r.next) }) }

// fill schedules chunks until window of them are in flight, or as many
// as the stream's byte budget holds (at least one: a stream that holds
// nothing always fits one chunk).
func (s *chunkStream) fill() {
	limit := min(s.window, s.img.client.opts.concurrency)
	for len(s.pending) < limit && s.next < s.e.NumChunks() {
		c := s.e.Chunk(s.next)
		cost := s.img.chunkCost(c)
		if !s.budget.TryAcquire(cost) {
			break
		}
		s.held += cost
		s.peak = max(s.peak, s.held)
		ch := make(chan chunkResult, 1)
		var r io.ReaderAt = s.img.layers[c.Layer]
		var t *inTurn
		if s.turn != nil {
			t = &inTurn{ReaderAt: r, ctx: s.ctx, turn: s.turn, next: make(chan struct{})}
			r, s.turn = t, t.next
		}
		go func() {
			if t != nil {
				defer t.pass() // also when the chunk failed before reading
			}
			if err := s.ctx.Err(); err != nil {
				ch <- chunkResult{err: err}
				return
			}
			data, err := s.img.fetchChunkFrom(r, c, nil)
			ch <- chunkResult{data: data, err: err}
		}()
		s.pending = append(s.pending, pendingChunk{result: ch, cost: cost})
		s.next++
	}
}

func (s *chunkStream) Read(p []byte) (int, error) {
	for len(s.cur) == 0 {
		if s.curCost > 0 {
			// The chunk handed out before is used up: its bytes are free
			// for the next.
			s.budget.Release(s.curCost)
			s.held -= s.curCost
			s.curCost = 0
			s.fill()
		}
		if len(s.pending) == 0 {
			return 0, io.EOF
		}
		p := s.pending[0]
		r := <-p.result
		s.pending = s.pending[1:]
		s.curCost = p.cost
		if r.err != nil {
			if errors.Is(r.err, context.Canceled) && s.img.ctx.Err() == nil {
				return 0, errors.New("stream closed")
			}
			return 0, s.img.wrapRead(s.e, r.err)
		}
		s.cur = r.data[s.skipFirst:]
		s.skipFirst = 0
		// The window grows while the reader keeps going, up to what fill
		// schedules anyway (doubling without a bound would overflow after
		// 64 chunks and stop the stream).
		s.window = min(2*s.window, s.img.client.opts.concurrency)
		s.fill()
	}
	n := copy(p, s.cur)
	s.cur = s.cur[n:]
	s.pos += int64(n)
	return n, nil
}

func (s *chunkStream) Close() { s.cancel() }

// dirFile is an open directory of an Image.
type dirFile struct {
	info    fileInfo
	entries []fs.DirEntry
	pos     int
	closed  bool
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }

func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.name, Err: errors.New("is a directory")}
}

func (d *dirFile) Close() error {
	if d.closed {
		return fs.ErrClosed
	}
	d.closed = true
	return nil
}

// ReadDir implements fs.ReadDirFile.
func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.pos:]
	if n <= 0 {
		d.pos = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	d.pos += n
	return rest[:n], nil
}

// WriteFileTo streams one file of the artifact to w, fetching its chunks
// in parallel and verifying each, and returns the bytes written. Symlinks
// inside the artifact are followed.
func (img *Image) WriteFileTo(w io.Writer, name string) (int64, error) {
	e, err := img.lookup("open", name, true)
	if err != nil {
		return 0, err
	}
	if e.Type != toc.TypeReg {
		if e.Type == toc.TypeDir {
			return 0, &fs.PathError{Op: "read", Path: name, Err: errors.New("is a directory")}
		}
		return 0, &fs.PathError{Op: "read", Path: name, Err: ErrUnsupportedEntry}
	}
	s := img.newChunkStream(e, 0, img.client.opts.concurrency, true)
	defer s.Close()
	n, err := io.Copy(w, onlyReader{s})
	if err == nil && n != e.Size {
		err = img.wrapRead(e, fmt.Errorf("%d of %d bytes: %w", n, e.Size, io.ErrUnexpectedEOF))
	}
	return n, err
}

// onlyReader hides WriterTo/ReaderFrom so io.Copy uses plain reads.
type onlyReader struct{ io.Reader }
