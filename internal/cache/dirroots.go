package cache

import (
	"io/fs"
	"os"
	"path"
	"time"
)

// cacheRoot is the cache directory's os.Root, with a root held open for
// each directory of the layout: a name inside one of them is resolved
// from its directory's root, in one step, where the cache directory's
// root would open and close every directory on the way (an os.Root walks
// a path one component at a time). A pull through the cache locks, reads
// and replaces an entry's files for every segment it fetches.
//
// Names elsewhere, and renames between two directories, go through the
// cache directory's root.
type cacheRoot struct {
	*os.Root
	dirs map[string]*os.Root // layout directory → its root; not changed after openDirRoots
}

// openDirRoots opens a root for each directory of dirs that is, as
// opened, the directory that the cache directory's root finds at its
// name: ensureDir replaces a symlink planted there, and one planted
// between that and this open must not make two directories alias. A
// directory that cannot be opened so is reached through the cache
// directory's root instead.
func (r *cacheRoot) openDirRoots(dirs []string) {
	r.dirs = make(map[string]*os.Root, len(dirs))
	for _, d := range dirs {
		sub, err := r.Root.OpenRoot(d)
		if err != nil {
			continue
		}
		held, err1 := sub.Stat(".")
		named, err2 := r.Root.Lstat(d)
		if err1 != nil || err2 != nil || !named.IsDir() || !os.SameFile(held, named) {
			sub.Close()
			continue
		}
		r.dirs[d] = sub
	}
}

// in returns the root to resolve name from, and name relative to it.
func (r *cacheRoot) in(name string) (*os.Root, string) {
	dir, base := path.Split(name)
	if base == "" || len(dir) < 2 {
		return r.Root, name
	}
	if sub, ok := r.dirs[dir[:len(dir)-1]]; ok {
		return sub, base
	}
	return r.Root, name
}

func (r *cacheRoot) Lstat(name string) (fs.FileInfo, error) {
	root, n := r.in(name)
	return root.Lstat(n)
}

func (r *cacheRoot) OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error) {
	root, n := r.in(name)
	return root.OpenFile(n, flag, perm)
}

func (r *cacheRoot) Remove(name string) error {
	root, n := r.in(name)
	return root.Remove(n)
}

func (r *cacheRoot) RemoveAll(name string) error {
	root, n := r.in(name)
	return root.RemoveAll(n)
}

func (r *cacheRoot) Chtimes(name string, atime, mtime time.Time) error {
	root, n := r.in(name)
	return root.Chtimes(n, atime, mtime)
}

// Rename renames within one directory's root where both names are in it.
func (r *cacheRoot) Rename(from, to string) error {
	fromRoot, f := r.in(from)
	toRoot, t := r.in(to)
	if fromRoot == toRoot {
		return fromRoot.Rename(f, t)
	}
	return r.Root.Rename(from, to)
}

// Close closes the directories' roots and the cache directory's.
func (r *cacheRoot) Close() error {
	for _, sub := range r.dirs {
		sub.Close()
	}
	return r.Root.Close()
}
