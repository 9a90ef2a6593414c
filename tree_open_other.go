//go:build !linux

package blobber

import (
	"io/fs"
	"os"
)

// dirHandle holds nothing here: files are opened through os.Root.
type dirHandle struct{}

func (*dirHandle) close() {}

// openListed opens base, a name in the directory dir, as openNonBlocking
// does.
func openListed(dir *os.Root, _ *dirHandle, base string) (fs.File, error) {
	return openNonBlocking(dir, base)
}
