//go:build unix

package extract

import (
	"io/fs"
	"syscall"
)

// readUmask reads the umask the only portable way, by setting it and
// setting it back. Files another goroutine creates in between get the
// strictest mask rather than none, and it is read once, before an
// extraction makes files.
func readUmask() fs.FileMode {
	old := syscall.Umask(0o077)
	syscall.Umask(old)
	return fs.FileMode(old) & fs.ModePerm
}
