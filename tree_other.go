//go:build !unix

package blobber

import (
	"io/fs"
	"os"
)

// openNonBlocking opens name for reading: there are no FIFOs in this
// system's file tree to wait on.
func openNonBlocking(root *os.Root, name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	return root.Open(name)
}
