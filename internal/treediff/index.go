package treediff

import (
	"context"
	"io/fs"
	"path"
	"slices"

	"github.com/blobber-dev/blobber/internal/toc"
)

// indexSide is an artifact's tree, from its table of contents.
type indexSide struct {
	ix *toc.Index
	// mode maps a stored mode to the one compared (what pull writes, when
	// the other side is a local directory).
	mode func(fs.FileMode) fs.FileMode
}

func (s indexSide) list(_ context.Context, _ string, n *node) ([]node, error) {
	dir := s.ix.Root
	if n != nil {
		dir = n.ref.(*toc.Entry)
	}
	out := make([]node, 0, len(dir.Children()))
	for _, c := range dir.Children() {
		out = append(out, node{name: path.Base(c.Name), entry: s.entry(c), ref: s.content(c)})
	}
	return out, nil
}

// content is the entry whose content (and, for a directory, children) c
// stands for: a hardlink's target file, else c itself.
func (s indexSide) content(c *toc.Entry) *toc.Entry {
	if c.Type == toc.TypeHardlink {
		if t, ok := s.ix.Lookup(c.LinkName()); ok {
			return t
		}
	}
	return c
}

func (s indexSide) entry(c *toc.Entry) Entry {
	c = s.content(c)
	e := Entry{Type: typeOf(c.Type), Mode: permBits(c.Mode)}
	if s.mode != nil {
		e.Mode = s.mode(e.Mode)
	}
	switch e.Type {
	case File:
		e.Size = c.Size
		if d, ok := s.ix.FileDigest(c); ok {
			e.Digest = d
		}
	case Symlink:
		e.Target = c.LinkName()
	}
	return e
}

func typeOf(t toc.EntryType) Type {
	switch t {
	case toc.TypeReg, toc.TypeHardlink:
		return File
	case toc.TypeDir:
		return Dir
	case toc.TypeSymlink:
		return Symlink
	case toc.TypeChar:
		return Char
	case toc.TypeBlock:
		return Block
	case toc.TypeFifo:
		return Fifo
	}
	return Other
}

// sameChunks decides two files' content without a whole-file digest on
// one side: the same chunks (offsets in the file, sizes, digests) hold
// the same bytes. Chunks cut elsewhere prove nothing either way, and the
// file is taken as changed: a comparison never calls different content
// the same.
func sameChunks(a, b []toc.Chunk) bool {
	return slices.EqualFunc(a, b, func(x, y toc.Chunk) bool {
		return x.FileOffset == y.FileOffset && x.Size == y.Size && x.SHA256 == y.SHA256
	})
}

// Compare compares two artifacts' tables of contents, old to new. It
// reads nothing: a file's content is judged by its digest in each table
// (toc.Index.FileDigest), or, where one gives none, by its chunks' digests.
func Compare(ctx context.Context, old, new *toc.Index) (*Result, error) {
	w := &walker{
		old: indexSide{ix: old}, new: indexSide{ix: new}, result: &Result{},
		sameContent: func(_ context.Context, _ string, o, n *node) (bool, error) {
			if o.entry.Digest != "" && n.entry.Digest != "" {
				return o.entry.Digest == n.entry.Digest, nil
			}
			return sameChunks(o.ref.(*toc.Entry).AppendChunks(nil), n.ref.(*toc.Entry).AppendChunks(nil)), nil
		},
	}
	if err := w.walk(ctx, ".", nil, nil); err != nil {
		return nil, err
	}
	return w.result, nil
}
