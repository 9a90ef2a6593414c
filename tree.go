package blobber

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sync"
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

	// The directory of the last file OpenRegular opened stays open: a
	// walk opens a directory's files one after another, and an open of
	// "dir/name" through root would open dir again for each (an openat
	// and a close more per file). mu keeps it from being closed while a
	// file is opened in it.
	mu       sync.Mutex
	dirName  string
	dir      *os.Root
	dirOpens int // directories opened by OpenRegular, for the tests
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
func (t *Tree) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	var err error
	if t.dir != nil {
		err = t.dir.Close()
		t.dir, t.dirName = nil, ""
	}
	return errors.Join(t.root.Close(), err)
}

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
// The file is opened in its directory, itself opened through the tree's
// root, so no link leads the open outside the tree; the caller checks that
// what it opened is the file the walk listed (layer's sameFile), as a
// directory renamed since would give another file or none.
func (t *Tree) OpenRegular(name string) (fs.File, error) {
	if !fs.ValidPath(name) || name == "." {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	dirName, base := path.Split(name)
	if dirName == "" {
		return openNonBlocking(t.root, base)
	}
	dirName = dirName[:len(dirName)-1]
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dir == nil || t.dirName != dirName {
		dir, err := t.root.OpenRoot(filepath.FromSlash(dirName))
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: unwrapPath(err)}
		}
		if t.dir != nil {
			t.dir.Close()
		}
		t.dir, t.dirName = dir, dirName
		t.dirOpens++
	}
	f, err := openNonBlocking(t.dir, base)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: unwrapPath(err)}
	}
	return f, nil
}

// unwrapPath is the cause of a *fs.PathError, whose path names only part
// of what was opened.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

var (
	_ fs.ReadDirFS  = (*Tree)(nil)
	_ fs.StatFS     = (*Tree)(nil)
	_ fs.ReadLinkFS = (*Tree)(nil)
)
