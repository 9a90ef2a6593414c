package upload

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func newTail(t *testing.T) *Tail {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "blob"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return NewTail(f)
}

type ready struct {
	size     int64
	complete bool
	err      error
}

// Ready waits for the bytes asked for, or for the end of the writing,
// whichever comes first; what it reports can be read.
func TestTailReadyWaitsForTheWriter(t *testing.T) {
	tail := newTail(t)
	got := make(chan ready, 1)
	wait := func(want int64) {
		go func() {
			size, complete, err := tail.Ready(context.Background(), want)
			got <- ready{size, complete, err}
		}()
	}
	pending := func() {
		t.Helper()
		select {
		case r := <-got:
			t.Fatalf("Ready returned %+v before the bytes were written", r)
		case <-time.After(20 * time.Millisecond):
		}
	}

	wait(10)
	pending()
	tail.Write([]byte("01234"))
	pending()
	tail.Write([]byte("56789abc"))
	if r := <-got; r != (ready{13, false, nil}) {
		t.Fatalf("Ready(10) = %+v, want 13 bytes, not complete", r)
	}
	buf := make([]byte, 13)
	if _, err := tail.ReadAt(buf, 0); err != nil || string(buf) != "0123456789abc" {
		t.Fatalf("ReadAt: %q, %v", buf, err)
	}

	wait(100)
	pending()
	tail.Close(nil)
	if r := <-got; r != (ready{13, true, nil}) {
		t.Fatalf("Ready(100) after Close = %+v, want 13 bytes, complete", r)
	}
}

// A writer that fails hands its error to Ready.
func TestTailReadyGetsTheWritersError(t *testing.T) {
	tail := newTail(t)
	tail.Write([]byte("partial"))
	boom := errors.New("build failed")
	tail.Close(boom)
	if _, complete, err := tail.Ready(context.Background(), 1<<20); complete || !errors.Is(err, boom) {
		t.Fatalf("Ready: complete %v, %v; want the writer's error", complete, err)
	}
}

// Ready gives up when its context ends, though the writer is still at it.
func TestTailReadyEndsWithItsContext(t *testing.T) {
	tail := newTail(t)
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan error, 1)
	go func() {
		_, _, err := tail.Ready(ctx, 1)
		got <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case err := <-got:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Ready: %v, want the context's error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Ready still waits after its context ended")
	}
}
