package blobber

import (
	"context"
	"fmt"
	"io/fs"

	"golang.org/x/sync/errgroup"

	"github.com/blobber-dev/blobber/internal/extract"
	"github.com/blobber-dev/blobber/internal/treediff"
)

// A Diff lists the paths that differ between two trees (an artifact and
// another, or an artifact and a local directory) and counts them.
// Changes come in the order ls lists paths: each directory's entries
// sorted by name, a directory before what it holds; a directory added,
// deleted or put in place of something else has each path under it
// listed too.
type Diff = treediff.Result

// A Change is one path that differs, with its old and new entry.
type Change = treediff.Change

// ChangeKind is what happened to a path: A, D, M or T, as
// `git diff --name-status` prints it.
type ChangeKind = treediff.Kind

// DiffEntry is one side of a Change: its type, mode, size, digest and
// symlink target.
type DiffEntry = treediff.Entry

// EntryType is the kind of an entry: "file", "dir", "symlink", "char",
// "block", "fifo", or "other" (a local socket).
type EntryType = treediff.Type

// DiffTotals counts a Diff's changes and the bytes of the files they
// touch.
type DiffTotals = treediff.Totals

// DiffState is what a previous sync recorded of the files it wrote in a
// directory; DiffDir asks it before hashing a file (see WithDiffState).
type DiffState = treediff.State

// Change kinds.
const (
	ChangeAdded       = treediff.Added       // only in the new tree
	ChangeDeleted     = treediff.Deleted     // only in the old tree
	ChangeModified    = treediff.Modified    // content, mode or symlink target
	ChangeTypeChanged = treediff.TypeChanged // a file became a directory, …
)

// Diff compares two artifacts, ref1 (old) with ref2 (new), from their
// tables of contents alone: it reads the same bytes as two `ls`, and no
// file content. A file's content is judged by the sha256 the table of
// contents gives it (Image.FileDigest); where either table gives none
// for a file of several chunks, by its chunks' digests, and a file cut
// into other chunks is then reported as modified, since nothing read
// proves it the same.
func (c *Client) Diff(ctx context.Context, ref1, ref2 string) (*Diff, error) {
	var old, new *Image
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { old, err = c.Open(gctx, ref1); return err })
	g.Go(func() (err error) { new, err = c.Open(gctx, ref2); return err })
	err := g.Wait()
	for _, img := range []*Image{old, new} {
		if img != nil {
			defer img.Close()
		}
	}
	if err != nil {
		return nil, err
	}
	return old.Diff(ctx, new)
}

// Diff compares img (old) with other (new) from their tables of contents,
// as Client.Diff does.
func (img *Image) Diff(ctx context.Context, other *Image) (*Diff, error) {
	d, err := treediff.Compare(ctx, img.index, other.index)
	if err != nil {
		return nil, err
	}
	d.Old, d.New = img.name, other.name
	return d, nil
}

// DiffOption configures DiffDir.
type DiffOption func(*diffOptions) error

type diffOptions struct {
	state DiffState
}

// WithDiffState has DiffDir ask s about each file before hashing it: a
// file s vouches for (written by a previous sync and unchanged since, by
// its metadata) is compared by the digest s recorded. If s also has a
// method Hashed(name string, info fs.FileInfo, d digest.Digest), it is
// told of every file DiffDir hashed.
func WithDiffState(s DiffState) DiffOption {
	return func(o *diffOptions) error {
		if s == nil {
			return invalidOption("WithDiffState: nil state")
		}
		o.state = s
		return nil
	}
}

// DiffDir compares the artifact ref (old) with the local directory dir
// (new); Diff.Reverse gives the other way. Type, size and mode decide
// first; a file of the same type and size as in the artifact is hashed,
// and compared with the digest its table of contents gives it. Modes are
// compared as pull writes them (the umask applied, never setuid, setgid,
// sticky or world-writable), so that a directory just pulled is
// identical; on Windows modes are not compared. Links in dir are compared
// as links and never followed. Nothing of the layer is read beyond its
// table of contents.
func (c *Client) DiffDir(ctx context.Context, ref, dir string, opts ...DiffOption) (*Diff, error) {
	img, err := c.Open(ctx, ref)
	if err != nil {
		return nil, err
	}
	defer img.Close()
	return img.DiffDir(ctx, dir, opts...)
}

// DiffDir compares img (old) with the local directory dir (new), as
// Client.DiffDir does.
func (img *Image) DiffDir(ctx context.Context, dir string, opts ...DiffOption) (*Diff, error) {
	var o diffOptions
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, fmt.Errorf("diff of %s and %s: %w", img.name, dir, err)
		}
	}
	tree, err := OpenTree(dir)
	if err != nil {
		return nil, fmt.Errorf("diff of %s and %s: %w", img.name, dir, err)
	}
	defer tree.Close()
	d, err := treediff.CompareDir(ctx, img.index, tree, treediff.DirOptions{
		State:       o.state,
		DiskMode:    func(m fs.FileMode) fs.FileMode { return extract.DiskPerm(m) },
		IgnoreModes: !localModesCompared,
	})
	if err != nil {
		return nil, fmt.Errorf("diff of %s and %s: %w", img.name, dir, err)
	}
	d.Old, d.New = img.name, dir
	return d, nil
}
