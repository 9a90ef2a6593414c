package treediff

import (
	"context"
	"io/fs"
	"path"
)

// node is one entry of a side while the trees are walked.
type node struct {
	name  string // base name
	entry Entry
	// ref lets the side list a directory's children and, for a file,
	// decide its content: a *toc.Entry, or a local fs.FileInfo.
	ref any
}

// side is one of the two trees compared.
type side interface {
	// list returns the entries of the directory at dir (n is its node,
	// nil for the root), sorted by name.
	list(ctx context.Context, dir string, n *node) ([]node, error)
}

// contentJudge decides whether two files of the same size hold the same
// bytes: from the tables of contents, or by hashing a local file.
type contentJudge func(ctx context.Context, name string, old, new *node) (bool, error)

// walker merges the sorted listings of two sides, directory by directory.
type walker struct {
	old, new    side
	sameContent contentJudge
	ignoreModes bool
	result      *Result
}

func (w *walker) walk(ctx context.Context, dir string, oldDir, newDir *node) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	olds, err := w.old.list(ctx, dir, oldDir)
	if err != nil {
		return err
	}
	news, err := w.new.list(ctx, dir, newDir)
	if err != nil {
		return err
	}
	for i, j := 0, 0; i < len(olds) || j < len(news); {
		switch {
		case j == len(news) || i < len(olds) && olds[i].name < news[j].name:
			if err := w.only(ctx, Deleted, w.old, path.Join(dir, olds[i].name), &olds[i]); err != nil {
				return err
			}
			i++
		case i == len(olds) || news[j].name < olds[i].name:
			if err := w.only(ctx, Added, w.new, path.Join(dir, news[j].name), &news[j]); err != nil {
				return err
			}
			j++
		default:
			if err := w.both(ctx, path.Join(dir, olds[i].name), &olds[i], &news[j]); err != nil {
				return err
			}
			i, j = i+1, j+1
		}
	}
	return nil
}

// only records n, which one side alone has, and everything under it.
func (w *walker) only(ctx context.Context, kind Kind, s side, name string, n *node) error {
	e := n.entry
	c := Change{Path: name, Kind: kind}
	if kind == Added {
		c.New = &e
	} else {
		c.Old = &e
	}
	w.result.add(c)
	if n.entry.Type != Dir {
		return nil
	}
	return w.children(ctx, kind, s, name, n)
}

// both compares the entry both sides have at name.
func (w *walker) both(ctx context.Context, name string, old, new *node) error {
	oe, ne := old.entry, new.entry
	c := Change{Path: name, Kind: Modified, Old: &oe, New: &ne}
	if oe.Type != ne.Type {
		c.Kind = TypeChanged
		w.result.add(c)
		// What one side holds under a directory the other lacks.
		if oe.Type == Dir {
			return w.children(ctx, Deleted, w.old, name, old)
		}
		if ne.Type == Dir {
			return w.children(ctx, Added, w.new, name, new)
		}
		return nil
	}
	switch oe.Type {
	case File:
		if oe.Size != ne.Size {
			c.ContentChanged = true
		} else {
			same, err := w.sameContent(ctx, name, old, new)
			if err != nil {
				return err
			}
			c.ContentChanged = !same
			// What either side learnt of its digest.
			c.Old.Digest, c.New.Digest = old.entry.Digest, new.entry.Digest
		}
	case Symlink:
		c.TargetChanged = oe.Target != ne.Target
		c.ContentChanged = c.TargetChanged
	}
	// A symlink's own mode means nothing on most systems.
	c.ModeChanged = oe.Type != Symlink && !w.ignoreModes && oe.Mode != ne.Mode
	if c.ContentChanged || c.ModeChanged {
		w.result.add(c)
	}
	if oe.Type == Dir {
		return w.walk(ctx, name, old, new)
	}
	return nil
}

// children records everything under the directory n as kind.
func (w *walker) children(ctx context.Context, kind Kind, s side, name string, n *node) error {
	children, err := s.list(ctx, name, n)
	if err != nil {
		return err
	}
	for i := range children {
		if err := w.only(ctx, kind, s, path.Join(name, children[i].name), &children[i]); err != nil {
			return err
		}
	}
	return nil
}

// permBits keeps the permission bits with setuid, setgid and sticky.
func permBits(m fs.FileMode) fs.FileMode {
	return m & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
}
