//go:build unix

package extract

import (
	"io/fs"
	"sync"
	"syscall"
	"testing"
)

// withUmask sets the process umask for one test and makes the package read
// it again, as a new process would; both are restored after the test.
func withUmask(t *testing.T, mask fs.FileMode) {
	t.Helper()
	old := syscall.Umask(int(mask))
	processUmask = sync.OnceValue(readUmask)
	t.Cleanup(func() {
		syscall.Umask(old)
		processUmask = sync.OnceValue(readUmask)
	})
}

// Both ways of reading the umask agree, and leave it as it was.
func TestReadUmaskWays(t *testing.T) {
	for _, mask := range []fs.FileMode{0o022, 0o077, 0o027, 0o002} {
		withUmask(t, mask)
		if m, ok := umaskFromProc(); ok && m != mask {
			t.Errorf("/proc/self/status says umask %03o, want %03o", m, mask)
		}
		if m := umaskBySetting(); m != mask {
			t.Errorf("setting and restoring read umask %03o, want %03o", m, mask)
		}
		if m := umaskBySetting(); m != mask {
			t.Errorf("the umask was left at %03o, want %03o", m, mask)
		}
	}
}
