package blobber

import (
	"io/fs"
	"os"
)

// Tree is a directory to push, read through an os.Root: no link, even one
// swapped in for a directory while the push runs, leads the push outside
// it, and a file that is no longer the regular file the walk listed when
// the push opens it (a FIFO swapped in, say) fails the push instead of
// blocking it. Push of a Tree is what the CLI does; os.DirFS follows
// links out of the directory.
type Tree struct {
	root *os.Root
	fsys fs.FS
}

// OpenTree opens the directory dir as a tree to push. Close it after.
func OpenTree(dir string) (*Tree, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &Tree{root: root, fsys: root.FS()}, nil
}

// Close closes the directory.
func (t *Tree) Close() error { return t.root.Close() }

// Open opens name (fs.FS).
func (t *Tree) Open(name string) (fs.File, error) { return t.fsys.Open(name) }

// ReadDir lists the directory name (fs.ReadDirFS).
func (t *Tree) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(t.fsys, name) }

// Stat describes name, following a final link (fs.StatFS).
func (t *Tree) Stat(name string) (fs.FileInfo, error) { return fs.Stat(t.fsys, name) }

// Lstat describes name itself (fs.ReadLinkFS).
func (t *Tree) Lstat(name string) (fs.FileInfo, error) { return fs.Lstat(t.fsys, name) }

// ReadLink says where the link name points (fs.ReadLinkFS).
func (t *Tree) ReadLink(name string) (string, error) { return fs.ReadLink(t.fsys, name) }

// OpenRegular opens name, which the walk listed as a regular file, without
// waiting for whatever may stand there now: an open of a FIFO waits for a
// writer, and a push must not hang on a file swapped under it.
func (t *Tree) OpenRegular(name string) (fs.File, error) { return openNonBlocking(t.root, name) }

var (
	_ fs.ReadDirFS  = (*Tree)(nil)
	_ fs.StatFS     = (*Tree)(nil)
	_ fs.ReadLinkFS = (*Tree)(nil)
)
