package main

import (
	"bytes"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestPlainProgressWritesPeriodicLines: --progress plain writes a line per
// phase that moved, every interval and no more often, and each phase's
// last state when stopped.
func TestPlainProgressWritesPeriodicLines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out lockedBuffer
		pp := newPlainProgress(&out, 2*time.Second)
		pp.update("upload", 1024, 4096)
		time.Sleep(time.Second)
		synctest.Wait()
		if out.Len() != 0 {
			t.Fatalf("wrote before the interval: %q", out.String())
		}
		time.Sleep(time.Second + time.Millisecond)
		synctest.Wait()
		pp.update("upload", 2048, 4096)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		time.Sleep(2 * time.Second) // nothing moved: no line
		synctest.Wait()
		pp.update("upload", 4096, 4096)
		pp.stop(true)
		want := "upload 1.0 KiB / 4.0 KiB (25%)\n" +
			"upload 2.0 KiB / 4.0 KiB (50%)\n" +
			"upload 4.0 KiB / 4.0 KiB (100%), done\n"
		if out.String() != want {
			t.Errorf("wrote\n%s\nwant\n%s", out.String(), want)
		}
	})
}

// lockedBuffer is a bytes.Buffer the ticker's goroutine and the test share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Len()
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
