package upload

import (
	"io"
	"os"
	"sync"
)

// Tail is a file that one goroutine appends to while readers follow it, as
// `tail -f` does: a reader waits for bytes not written yet and ends where
// the writer closed the file. It lets a blob be uploaded while it is being
// built, with the bytes kept on disk (not in memory) for an upload that
// has to start again.
type Tail struct {
	f      *os.File
	mu     sync.Mutex
	grown  sync.Cond // signalled on every write and on close
	size   int64
	closed bool
	err    error // the writer's, for readers, once closed
}

// NewTail follows f, written from its start through the Tail.
func NewTail(f *os.File) *Tail {
	t := &Tail{f: f}
	t.grown.L = &t.mu
	return t
}

// Write appends p to the file.
func (t *Tail) Write(p []byte) (int, error) {
	n, err := t.f.Write(p)
	t.mu.Lock()
	t.size += int64(n)
	t.grown.Broadcast()
	t.mu.Unlock()
	return n, err
}

// Close ends the writing (not the file): readers then reach io.EOF at its
// end, or err when it is not nil (a build that failed).
func (t *Tail) Close(err error) {
	t.mu.Lock()
	if !t.closed {
		t.closed, t.err = true, err
	}
	t.grown.Broadcast()
	t.mu.Unlock()
}

// Reader reads the file from its start, waiting for the writer.
func (t *Tail) Reader() io.Reader { return &tailReader{t: t} }

type tailReader struct {
	t   *Tail
	off int64
}

// available waits until bytes past off are written or the writing ended,
// and returns how many there are.
func (t *Tail) available(off int64) (int64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for t.size <= off && !t.closed {
		t.grown.Wait()
	}
	if t.size > off {
		return t.size - off, nil
	}
	if t.err != nil {
		return 0, t.err
	}
	return 0, io.EOF
}

func (r *tailReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, err := r.t.available(r.off)
	if err != nil {
		return 0, err
	}
	got, err := r.t.f.ReadAt(p[:min(int64(len(p)), n)], r.off)
	r.off += int64(got)
	if err == io.EOF && got > 0 {
		err = nil
	}
	return got, err
}

// tailBuffer is what WriteTo reads at a time: larger than io.Copy's 32 KiB,
// for fewer system calls on a blob of hundreds of megabytes.
const tailBuffer = 1 << 20

// WriteTo copies the file to w as it grows (the HTTP client's body copy
// uses it).
func (r *tailReader) WriteTo(w io.Writer) (int64, error) {
	buf := make([]byte, tailBuffer)
	var total int64
	for {
		n, err := r.Read(buf)
		if n > 0 {
			m, werr := w.Write(buf[:n])
			total += int64(m)
			if werr != nil {
				return total, werr
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}
