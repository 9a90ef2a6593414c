package blobber

import (
	"github.com/blobber-dev/blobber/internal/match"
	"github.com/blobber-dev/blobber/internal/toc"
	"github.com/blobber-dev/blobber/internal/treediff"
)

// WithSyncSelect limits what Sync touches to the paths s chooses (as
// WithSelect chooses them for Pull): changes elsewhere, on either side,
// are neither planned nor applied, and WithSyncDelete removes only chosen
// paths. A path or glob that chooses nothing is not an error here (the
// part of DIR it names may simply be right). An invalid glob or path
// fails Sync before any request (ErrInvalidOption).
func WithSyncSelect(s Selection) SyncOption {
	return func(o *syncOptions) error {
		if _, err := s.compile(); err != nil {
			return invalidOption("WithSyncSelect: %v", err)
		}
		o.selection = &s
		return nil
	}
}

// selected keeps the changes of plan whose path sel chooses: a path is
// chosen when it, or a directory above it, is included, and neither it
// nor a directory above it is excluded (pull.Choose's rule, applied to
// DIR's paths too).
func selected(plan *Diff, sel *match.Selector) *Diff {
	out := &Diff{Old: plan.Old, New: plan.New, Hashed: plan.Hashed, HashedBytes: plan.HashedBytes}
	for _, c := range plan.Changes {
		if chosen(sel, c.Path) {
			out.Changes = append(out.Changes, c)
			countChange(&out.Totals, c)
		}
	}
	return out
}

func chosen(sel *match.Selector, name string) bool {
	in := false
	for i := 0; i <= len(name); i++ {
		if i < len(name) && name[i] != '/' {
			continue
		}
		prefix := name[:i]
		if sel.Excludes(prefix) {
			return false
		}
		in = in || sel.Includes(prefix)
	}
	return in
}

// countChange adds c to t as treediff counts it.
func countChange(t *treediff.Totals, c Change) {
	switch c.Kind {
	case treediff.Added:
		t.Added++
	case treediff.Deleted:
		t.Deleted++
	case treediff.Modified:
		t.Modified++
	case treediff.TypeChanged:
		t.TypeChanged++
	}
	bytesOf := func(e *DiffEntry) int64 {
		if e != nil && e.Type == treediff.File && (c.Kind != treediff.Modified || c.ContentChanged) {
			return e.Size
		}
		return 0
	}
	t.OldBytes += bytesOf(c.Old)
	t.NewBytes += bytesOf(c.New)
}

// selectedFiles counts the regular files of img that sel chooses.
func (img *Image) selectedFiles(sel *match.Selector) int {
	n := 0
	_ = img.index.Walk(func(e *toc.Entry) error {
		if fileContent(img.index, e) != nil && chosen(sel, e.Name) {
			n++
		}
		return nil
	})
	return n
}
