// Package treediff compares two trees path by path: the tables of contents
// of two artifacts, or one artifact's with a local directory. It reads no
// file content from an artifact, and hashes a local file only when type,
// size and a sync state (State) cannot decide.
package treediff

import (
	"io/fs"

	digest "github.com/opencontainers/go-digest"
)

// Type is the kind of an entry, named as `ls --format json` names it.
type Type string

// Entry types. A hardlink in a table of contents is the file it shares
// content with.
const (
	File    Type = "file"
	Dir     Type = "dir"
	Symlink Type = "symlink"
	Char    Type = "char"
	Block   Type = "block"
	Fifo    Type = "fifo"
	Other   Type = "other" // a local socket, or what the system cannot say
)

// Kind is what happened to a path, as `git diff --name-status` says it.
type Kind string

// Change kinds.
const (
	Added       Kind = "A" // only in the new tree
	Deleted     Kind = "D" // only in the old tree
	Modified    Kind = "M" // same type, but content, mode or symlink target differs
	TypeChanged Kind = "T" // a file became a directory, a symlink, …
)

// Entry is one side of a change.
type Entry struct {
	Type Type
	// Mode is the permission bits with fs.ModeSetuid, fs.ModeSetgid and
	// fs.ModeSticky.
	Mode fs.FileMode
	Size int64 // a file's size; 0 for anything else
	// Digest is the sha256 of a file's content, when known: from a table
	// of contents (toc.Index.FileDigest), or from hashing a local file. It
	// is empty when the comparison did not need it.
	Digest digest.Digest
	Target string // a symlink's target as stored
}

// Change is one path that differs. Old is nil for Added, New for Deleted.
type Change struct {
	Path string // slash-separated, from the tree's root
	Kind Kind
	// For Modified, what differs (one or more): the content (or, for a
	// symlink, its target) and the mode.
	ContentChanged bool
	TargetChanged  bool
	ModeChanged    bool
	Old, New       *Entry
}

// Totals counts the changes, and the bytes of the files they touch: the
// old side of files deleted, changed in content or replaced (OldBytes),
// and the new side of files added, changed in content or put in place of
// something else (NewBytes). A mode change alone counts no bytes.
type Totals struct {
	Added, Deleted, Modified, TypeChanged int
	OldBytes, NewBytes                    int64
}

// Result is the outcome of a comparison.
type Result struct {
	// Old and New name what was compared, as the caller named them (an
	// artifact's repository@digest, a directory's path).
	Old, New string
	// Changes in the order ls lists paths: each directory's entries sorted
	// by name, a directory before what it holds.
	Changes []Change
	Totals  Totals
	// Hashed and HashedBytes count the local files read to compare them
	// (always 0 between two artifacts).
	Hashed      int
	HashedBytes int64
}

// Identical tells whether no path differs.
func (r *Result) Identical() bool { return len(r.Changes) == 0 }

// Reverse returns the comparison the other way round: what was added is
// deleted, old and new swap. Sync reads a comparison of artifact → DIR as
// DIR → artifact.
func (r *Result) Reverse() *Result {
	out := &Result{Old: r.New, New: r.Old, Hashed: r.Hashed, HashedBytes: r.HashedBytes, Changes: make([]Change, len(r.Changes))}
	for i, c := range r.Changes {
		c.Old, c.New = c.New, c.Old
		switch c.Kind {
		case Added:
			c.Kind = Deleted
		case Deleted:
			c.Kind = Added
		}
		out.Changes[i] = c
	}
	out.Totals = r.Totals
	out.Totals.Added, out.Totals.Deleted = r.Totals.Deleted, r.Totals.Added
	out.Totals.OldBytes, out.Totals.NewBytes = r.Totals.NewBytes, r.Totals.OldBytes
	return out
}

// add records c and counts it.
func (r *Result) add(c Change) {
	r.Changes = append(r.Changes, c)
	switch c.Kind {
	case Added:
		r.Totals.Added++
	case Deleted:
		r.Totals.Deleted++
	case Modified:
		r.Totals.Modified++
	case TypeChanged:
		r.Totals.TypeChanged++
	}
	if c.Old != nil && c.Old.Type == File && (c.Kind != Modified || c.ContentChanged) {
		r.Totals.OldBytes += c.Old.Size
	}
	if c.New != nil && c.New.Type == File && (c.Kind != Modified || c.ContentChanged) {
		r.Totals.NewBytes += c.New.Size
	}
}
