//go:build unix

package blobber

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// openNonBlocking opens name for reading with O_NONBLOCK, which returns
// at once for a FIFO (and changes nothing for a regular file's reads).
func openNonBlocking(root *os.Root, name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	return root.OpenFile(filepath.FromSlash(name), os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
