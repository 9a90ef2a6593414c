package upload

import (
	"context"
	"os"
	"sync"

	"github.com/blobber-dev/blobber/internal/pagewrite"
)

// Tail is a file that one goroutine appends to while another uploads what
// is there so far, as `tail -f` follows a log: a blob uploaded while it is
// being built, its bytes kept on disk (not in memory) for the chunks that
// must be sent again. It is a Source.
type Tail struct {
	f      *os.File
	mu     sync.Mutex
	grown  sync.Cond // signalled on every write and on close
	size   int64
	closed bool
	err    error // the writer's, once closed
}

// NewTail follows f, written from its start through the Tail.
func NewTail(f *os.File) *Tail {
	t := &Tail{f: f}
	t.grown.L = &t.mu
	return t
}

// Write appends p to the file.
func (t *Tail) Write(p []byte) (int, error) {
	n, err := pagewrite.Write(t.f, p)
	t.mu.Lock()
	t.size += int64(n)
	t.grown.Broadcast()
	t.mu.Unlock()
	return n, err
}

// Close ends the writing (not the file): the file is complete, or, when
// err is not nil (a build that failed), never will be.
func (t *Tail) Close(err error) {
	t.mu.Lock()
	if !t.closed {
		t.closed, t.err = true, err
	}
	t.grown.Broadcast()
	t.mu.Unlock()
}

// Ready waits until the file holds want bytes or its writing ended, and
// returns its size then and whether it is complete; the writer's error
// if it failed, ctx's if it ends first.
func (t *Tail) Ready(ctx context.Context, want int64) (int64, bool, error) {
	stop := context.AfterFunc(ctx, func() {
		t.mu.Lock()
		t.grown.Broadcast()
		t.mu.Unlock()
	})
	defer stop()
	t.mu.Lock()
	defer t.mu.Unlock()
	for t.size < want && !t.closed && ctx.Err() == nil {
		t.grown.Wait()
	}
	switch {
	case t.closed && t.err != nil:
		return t.size, false, t.err
	case t.size < want && !t.closed:
		return t.size, false, ctx.Err()
	}
	return t.size, t.closed, nil
}

// ReadAt reads bytes that were written.
func (t *Tail) ReadAt(p []byte, off int64) (int, error) { return t.f.ReadAt(p, off) }
