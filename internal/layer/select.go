package layer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"

	"github.com/blobber-dev/blobber/internal/match"
)

// IgnoreFile is the file at a tree's root whose lines (gitignore syntax)
// name entries to leave out of the layer. It is itself pushed unless it
// lists itself, as with .dockerignore.
const IgnoreFile = ".blobberignore"

// Selection says which entries of a tree go into the layer, and how links
// are stored.
type Selection struct {
	// Exclude lists globs as internal/match reads them (docs/patterns.md),
	// matched against each entry's path from the tree's root with
	// slashes. An excluded directory is left out with all it holds.
	Exclude []string
	// Dereference stores what a symlink points to instead of the link, as
	// `tar -h` does: a link to a directory becomes a directory. A dangling
	// link, or one that leads back to a directory holding it, is an error.
	Dereference bool
}

// Select returns the tree fsys as the layer is to hold it: without the
// entries that s.Exclude or the tree's IgnoreFile name, and with links
// followed when s.Dereference is set. Entries are left out of directory
// listings, which is what a walk reads. With nothing to change, fsys is
// returned itself.
func Select(fsys fs.FS, s Selection) (fs.FS, error) {
	if err := match.Validate(s.Exclude); err != nil {
		return nil, fmt.Errorf("exclude: %w", err)
	}
	ignore, err := readIgnoreFile(fsys)
	if err != nil {
		return nil, err
	}
	if len(s.Exclude) == 0 && ignore == nil && !s.Dereference {
		return fsys, nil
	}
	exclude := func(name string, isDir bool) bool {
		if _, ok := match.AnyGlob(s.Exclude, name); ok {
			return true
		}
		return ignore.Match(name, isDir)
	}
	return &selected{fsys: fsys, exclude: exclude, deref: s.Dereference}, nil
}

// readIgnoreFile parses the tree's IgnoreFile; nil when it has none.
func readIgnoreFile(fsys fs.FS) (*match.Ignore, error) {
	data, err := fs.ReadFile(fsys, IgnoreFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", IgnoreFile, err)
	}
	ignore, err := match.ParseIgnore(data)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", IgnoreFile, err)
	}
	return ignore, nil
}

// selected is a tree seen through a Selection.
type selected struct {
	fsys    fs.FS
	exclude func(name string, isDir bool) bool
	deref   bool
}

var (
	_ fs.ReadDirFS  = (*selected)(nil)
	_ fs.StatFS     = (*selected)(nil)
	_ fs.ReadLinkFS = (*selected)(nil)
)

func (v *selected) Open(name string) (fs.File, error) { return v.fsys.Open(name) }

func (v *selected) OpenRegular(name string) (fs.File, error) { return openRegular(v.fsys, name) }

func (v *selected) Stat(name string) (fs.FileInfo, error) { return fs.Stat(v.fsys, name) }

// ReadLink reads only links the layer holds: a link that resolves through
// one that is left out must resolve, for Check, as it will in the
// extracted tree, where that one is not.
func (v *selected) ReadLink(name string) (string, error) {
	if v.hidden(name) {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrNotExist}
	}
	return fs.ReadLink(v.fsys, name)
}

// hidden reports whether name, a link or a path through directories, or
// one of those directories, is left out.
func (v *selected) hidden(name string) bool {
	for i, c := range name {
		if c == '/' && v.exclude(name[:i], true) {
			return true
		}
	}
	return v.exclude(name, false)
}

func (v *selected) Lstat(name string) (fs.FileInfo, error) {
	if v.deref {
		return fs.Stat(v.fsys, name)
	}
	return fs.Lstat(v.fsys, name)
}

func (v *selected) ReadDir(name string) ([]fs.DirEntry, error) {
	entries, err := fs.ReadDir(v.fsys, name)
	if err != nil {
		return nil, err
	}
	kept := entries[:0]
	for _, e := range entries {
		p := path.Join(name, e.Name())
		if v.exclude(p, e.IsDir()) {
			continue
		}
		if v.deref && e.Type()&fs.ModeSymlink != 0 {
			if e, err = v.follow(name, p); err != nil {
				return nil, err
			}
			if e.IsDir() && v.exclude(p, true) {
				continue
			}
		}
		kept = append(kept, e)
	}
	return kept, nil
}

// follow is the entry of what the link p, in the directory dir, points to.
func (v *selected) follow(dir, p string) (fs.DirEntry, error) {
	info, err := fs.Stat(v.fsys, p)
	if err != nil {
		target, _ := fs.ReadLink(v.fsys, p)
		cause := err
		if inner := errors.Unwrap(err); inner != nil {
			cause = inner
		}
		return nil, fmt.Errorf("%s -> %s: %w: cannot dereference a dangling link or a loop of links (%v)", p, target, ErrUnsupported, cause)
	}
	if info.IsDir() {
		// Storing a link to a directory that holds it would never end.
		for anc := dir; ; anc = path.Dir(anc) {
			if ai, err := fs.Stat(v.fsys, anc); err == nil && os.SameFile(ai, info) {
				return nil, fmt.Errorf("%s: %w: cannot dereference a link to %s, which holds it (a loop)", p, ErrUnsupported, anc)
			}
			if anc == "." {
				break
			}
		}
	}
	return fs.FileInfoToDirEntry(info), nil
}
