package pull

import (
	"fmt"
	"path"

	"github.com/blobber-dev/blobber/internal/errdef"
	"github.com/blobber-dev/blobber/internal/extract"
	"github.com/blobber-dev/blobber/internal/toc"
	"github.com/blobber-dev/blobber/internal/treepath"
)

// dereferencer writes symlinks as what they lead to inside the artifact
// (Options.DereferenceLinks), for systems where this user may not create
// symlinks: a link to a file becomes a hard link to that file, which the
// pull has written and verified; a link to a directory becomes a directory
// holding the same, recursively.
type dereferencer struct {
	ix  *toc.Index
	dir *extract.Dir
	// left is how many more entries it may create: links to directories
	// that hold links to directories multiply, and the artifact's entry
	// limit bounds what they may make.
	left int
	// expanding are the directories being copied, to refuse a link that
	// leads into its own ancestors.
	expanding map[string]bool
}

func newDereferencer(ix *toc.Index, dir *extract.Dir, maxEntries int) *dereferencer {
	return &dereferencer{ix: ix, dir: dir, left: maxEntries, expanding: map[string]bool{}}
}

func (d *dereferencer) lookup(n string) (string, bool, bool, error) {
	e, ok := d.ix.Lookup(n)
	if !ok {
		return "", false, false, nil
	}
	return e.LinkName(), e.Type == toc.TypeSymlink, true, nil
}

// target is the entry the symlink e leads to, through every link on the
// way.
func (d *dereferencer) target(e *toc.Entry) (*toc.Entry, error) {
	res, why, err := treepath.Resolve(e.Name, e.LinkName(), d.lookup)
	if err != nil {
		return nil, err
	}
	if why != "" {
		return nil, fmt.Errorf("symlink %s -> %s: %s: %w", e.Name, e.LinkName(), why, errdef.ErrPathTraversal)
	}
	t, ok := d.ix.Lookup(res)
	if !ok {
		return nil, fmt.Errorf("symlink %s -> %s leads to nothing in the artifact, so it cannot be stored as its target's content: %w",
			e.Name, e.LinkName(), errdef.ErrUnsupportedEntry)
	}
	if t.Type == toc.TypeHardlink {
		t, _ = d.ix.Lookup(t.LinkName()) // the index checked it is an earlier file
	}
	return t, nil
}

// link writes the symlink e as its target's content.
func (d *dereferencer) link(e *toc.Entry) error {
	t, err := d.target(e)
	if err != nil {
		return err
	}
	return d.place(e.Name, t)
}

// place writes at name what t holds.
func (d *dereferencer) place(name string, t *toc.Entry) error {
	if d.left--; d.left < 0 {
		return fmt.Errorf("storing symlinks as their targets' content makes more entries than the limit allows: %w", errdef.ErrLimitExceeded)
	}
	switch t.Type {
	case toc.TypeReg:
		return d.dir.Link(name, t.Name)
	case toc.TypeDir:
		if d.expanding[t.Name] {
			return fmt.Errorf("%s would hold a copy of itself: a symlink on the way leads into its own parents: %w", name, errdef.ErrUnsupportedEntry)
		}
		d.expanding[t.Name] = true
		defer delete(d.expanding, t.Name)
		if err := d.dir.Mkdir(name, t.Mode, t.ModTime()); err != nil {
			return err
		}
		for _, c := range t.Children() {
			inner := c
			switch c.Type {
			case toc.TypeSymlink:
				var err error
				if inner, err = d.target(c); err != nil {
					return err
				}
			case toc.TypeHardlink:
				inner, _ = d.ix.Lookup(c.LinkName()) // an earlier file, the index checked
			}
			if err := d.place(name+"/"+path.Base(c.Name), inner); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("symlink to %s (%s) cannot be stored as content: %w", t.Name, t.Type, errdef.ErrUnsupportedEntry)
}
