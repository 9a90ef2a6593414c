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
