package upload

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
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
// whichever comes first; what it reports can be read. In a synctest bubble,
// synctest.Wait returns once Ready is blocked for good, so "still waiting"
// is a fact rather than a guess after a sleep.
func TestTailReadyWaitsForTheWriter(t *testing.T) {
	synctest.Test(t, testTailReadyWaitsForTheWriter)
}

func testTailReadyWaitsForTheWriter(t *testing.T) {
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
		synctest.Wait()
		select {
		case r := <-got:
			t.Fatalf("Ready returned %+v before the bytes were written", r)
		default:
		}
	}

	wait(10)
	pending()
	tail.Write([]byte("01234"))
	pending()
	tail.Write([]byte("56789abc"))
	synctest.Wait()
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
	synctest.Wait()
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
	synctest.Test(t, testTailReadyEndsWithItsContext)
}

func testTailReadyEndsWithItsContext(t *testing.T) {
	tail := newTail(t)
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan error, 1)
	go func() {
		_, _, err := tail.Ready(ctx, 1)
		got <- err
	}()
	synctest.Wait()
	select {
	case err := <-got:
		t.Fatalf("Ready returned %v before its context ended", err)
	default:
	}
	cancel()
	synctest.Wait()
	select {
	case err := <-got:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Ready: %v, want the context's error", err)
		}
	default:
		t.Fatal("Ready still waits after its context ended")
	}
}
