package layer

import (
	"errors"
	"io/fs"
	"os"
)

// ErrChanged: an entry is no longer what the walk listed when the build
// opens it, as when a file is swapped for a symlink in between, which
// would otherwise publish the bytes the link points to.
var ErrChanged = errors.New("changed while the push read it (it is no longer the file the walk listed): push again once the tree is still")

// sameFile reports whether opened, the file the build opened, is listed,
// the regular file the walk found under the same name: the same type and
// size and, where the file system says (os.SameFile: device and inode, or
// their Windows equivalents), the same file.
func sameFile(listed, opened fs.FileInfo) bool {
	if !opened.Mode().IsRegular() || opened.Size() != listed.Size() {
		return false
	}
	// os.SameFile is false for a FileInfo that does not come from package
	// os (fstest.MapFS, say), which has no identity to compare.
	if os.SameFile(listed, listed) && os.SameFile(opened, opened) {
		return os.SameFile(listed, opened)
	}
	return true
}

// RegularOpener is a tree that can open a file the walk listed as regular
// without waiting on what may have replaced it since (an open of a FIFO
// waits for a writer): the build then finds it changed instead of hanging.
type RegularOpener interface {
	OpenRegular(name string) (fs.File, error)
}

func openRegular(fsys fs.FS, name string) (fs.File, error) {
	if o, ok := fsys.(RegularOpener); ok {
		return o.OpenRegular(name)
	}
	return fsys.Open(name)
}
