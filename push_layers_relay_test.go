package blobber

import (
	"context"
	"testing"
	"time"
)

// The next build begins once the build before it has read its files, not
// once it has ended; and no more than two run at once.
func TestBuildRelayStartsTheNextBuildOnceTheFilesAreRead(t *testing.T) {
	ctx := context.Background()
	r := newBuildRelay()
	var read int64
	progress, done0, err := r.start(ctx, 100, func(n int64) { read += n })
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan func())
	go func() {
		_, done, err := r.start(ctx, 0, nil)
		if err != nil {
			t.Error(err)
		}
		started <- done
	}()
	progress(60)
	select {
	case <-started:
		t.Fatal("the next build began before the first had read its files")
	case <-time.After(50 * time.Millisecond):
	}
	progress(40)
	var done1 func()
	select {
	case done1 = <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the next build did not begin once the first had read its files")
	}
	if read != 100 {
		t.Errorf("passed on %d bytes read, want 100", read)
	}
	// Two builds run (the first still finishing); the third waits for a slot,
	// though the second has read its (no) files.
	go func() {
		_, done, err := r.start(ctx, 0, nil)
		if err != nil {
			t.Error(err)
		}
		started <- done
	}()
	select {
	case <-started:
		t.Fatal("a third build began while two ran")
	case <-time.After(50 * time.Millisecond):
	}
	done0()
	select {
	case done2 := <-started:
		done2()
	case <-time.After(10 * time.Second):
		t.Fatal("the third build did not begin once the first ended")
	}
	done1()

	// A build that fails before it has read its files lets the next begin.
	r = newBuildRelay()
	_, failed, _ := r.start(ctx, 100, nil)
	failed()
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, done, err := r.start(cctx, 1, nil); err != nil {
		t.Fatalf("after a build that ended early: %v", err)
	} else {
		done()
	}
}
