package filelock_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/blobber-dev/blobber/internal/filelock"
)

func open(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// A lock held through one handle keeps TryLock through another from
// getting it, a shared lock admits another shared one, and closing the
// holder's handle releases it.
func TestLocksExcludeOtherHandles(t *testing.T) {
	name := filepath.Join(t.TempDir(), "x.lock")
	a, b := open(t, name), open(t, name)
	if err := filelock.Lock(a, false); err != nil {
		t.Fatal(err)
	}
	if got, err := filelock.TryLock(b); err != nil || got {
		t.Fatalf("TryLock while another handle holds the lock: got %v, %v", got, err)
	}
	a.Close()
	if got, err := filelock.TryLock(b); err != nil || !got {
		t.Fatalf("TryLock after the holder closed: got %v, %v", got, err)
	}
	b.Close()

	c, d, e := open(t, name), open(t, name), open(t, name)
	if err := filelock.Lock(c, true); err != nil {
		t.Fatal(err)
	}
	if err := filelock.Lock(d, true); err != nil {
		t.Fatalf("a second shared lock: %v", err)
	}
	if got, err := filelock.TryLock(e); err != nil || got {
		t.Fatalf("TryLock (exclusive) while shared locks are held: got %v, %v", got, err)
	}
}
