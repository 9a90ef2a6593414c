package blobber

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/blobber-dev/blobber/internal/extract"
	"github.com/blobber-dev/blobber/internal/match"
	"github.com/blobber-dev/blobber/internal/pull"
	"github.com/blobber-dev/blobber/internal/toc"
)

// Selection chooses the part of an artifact a Pull writes
// (docs/patterns.md). Paths name entries from the artifact's root ("a/b"):
// a directory stands for all it holds. Include and Exclude are globs in
// doublestar syntax, as WithExclude reads them: "*" within one name, "**"
// across directories; a directory that matches stands for all it holds.
// An entry is chosen when it is under one of Paths or matches an Include
// (or when both are empty), unless it or a directory above it matches an
// Exclude. A path or Include glob that chooses nothing fails the pull
// (ErrNotFound) unless AllowEmpty is set; so does a selection that
// chooses nothing at all.
type Selection struct {
	Paths      []string
	Include    []string
	Exclude    []string
	AllowEmpty bool
}

// WithSelect makes Pull write only the entries s chooses, and fetch only
// the chunks of the files among them (chunks that lie close together in
// the layer share one range request). The directories above a chosen
// entry are created with the artifact's modes; a hardlink whose target is
// not chosen gets the target's content. Every chunk is checked against its
// digest. A path outside the artifact's root or a glob that is not valid
// fails Pull before any request (ErrInvalidOption), as does
// WithDereferenceLinks with it.
func WithSelect(s Selection) PullOption {
	return func(o *pullOptions) error {
		if _, err := s.compile(); err != nil {
			return invalidOption("WithSelect: %v", err)
		}
		o.selection = &s
		return nil
	}
}

// PullReport is what a Pull wrote, as the artifact's table of contents
// counts it: regular files (a hardlink written with its target's content
// counts as one) and their bytes.
type PullReport struct {
	Files int
	Bytes int64
}

// WithPullReport makes a Pull that succeeds fill r.
func WithPullReport(r *PullReport) PullOption {
	return func(o *pullOptions) error { o.report = r; return nil }
}

// fill records in po's report, if it has one, the regular files among
// entries.
func (po pullOptions) fill(entries []*toc.Entry) {
	if po.report == nil {
		return
	}
	*po.report = PullReport{}
	for _, e := range entries {
		if e.Type == toc.TypeReg {
			po.report.Files++
			po.report.Bytes += e.Size
		}
	}
}

// CheckPattern reports whether p is a glob that WithExclude and
// WithSelect accept.
func CheckPattern(p string) error {
	if err := match.Validate([]string{p}); err != nil {
		return invalidOption("%v", err)
	}
	return nil
}

func (s Selection) compile() (*match.Selector, error) {
	return match.Selection{Paths: s.Paths, Include: s.Include, Exclude: s.Exclude}.Compile()
}

// checkSelection refuses options that do not go together.
func (po pullOptions) checkSelection() error {
	if po.selection != nil && po.dereference {
		return invalidOption("WithSelect cannot be combined with WithDereferenceLinks")
	}
	return nil
}

// extractSelected writes the entries po.selection chooses into dir,
// fetching only their chunks.
func (img *Image) extractSelected(ctx context.Context, dir string, po pullOptions) (err error) {
	ix := img.index
	sel, err := po.selection.compile()
	if err != nil {
		return invalidOption("WithSelect: %v", err)
	}
	chosen := pull.Choose(ix, sel)
	if !po.selection.AllowEmpty {
		if missing := sel.Unmatched(); len(missing) > 0 {
			return fmt.Errorf("%s: %s %s: %w", img.name, quoteAll(missing), chooseVerb(len(missing)), ErrNotFound)
		}
		if len(chosen) == 0 {
			return fmt.Errorf("%s: the selection chooses nothing: %w", img.name, ErrNotFound)
		}
	}
	if err := refusals(img.name, ix, dir, chosen); err != nil {
		return err
	}
	var size int64
	keepTimes := false
	for _, e := range chosen {
		size += e.Size
		keepTimes = keepTimes || e.ModTime().After(time.Unix(1, 0))
	}
	if err := extract.CheckFreeSpace(dir, size); err != nil {
		return wrapf(err, "pulling %s", img.name)
	}
	d, err := extract.Open(dir, extract.Options{Overwrite: po.overwrite, KeepTimes: keepTimes})
	if err != nil {
		return classify(err)
	}
	defer func() {
		if err != nil {
			d.Abort()
			err = wrapf(err, "pulling %s into %s", img.name, dir)
		}
	}()
	for _, e := range chosen {
		if err := d.Check(e.Name, e.Type == toc.TypeDir); err != nil {
			return err
		}
	}
	progress := img.client.opts.meter("download", 0)
	err = pull.Entries(ctx, d, img.pullArtifact(), chosen, pull.Options{
		Concurrency: img.client.opts.concurrency,
		Progress:    progress.add,
		Planned:     progress.setTotal,
		MaxEntries:  cmp.Or(max(img.client.opts.limits.MaxFiles, 0), toc.DefaultLimits.MaxEntries),
	})
	if err != nil {
		return err
	}
	if err := d.Commit(); err != nil {
		return err
	}
	po.fill(written(ix, chosen))
	return nil
}

// written is what Entries writes as regular files: the chosen ones, and
// the first chosen hardlink to each file that is not.
func written(ix *toc.Index, chosen []*toc.Entry) []*toc.Entry {
	held := map[string]bool{}
	for _, e := range chosen {
		held[e.Name] = e.Type == toc.TypeReg
	}
	var out []*toc.Entry
	for _, e := range chosen {
		switch {
		case e.Type == toc.TypeReg:
			out = append(out, e)
		case e.Type == toc.TypeHardlink && !held[e.LinkName()]:
			if t, ok := ix.Lookup(e.LinkName()); ok {
				held[e.LinkName()] = true
				out = append(out, t)
			}
		}
	}
	return out
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

func chooseVerb(n int) string {
	if n == 1 {
		return "matches nothing in the artifact"
	}
	return "match nothing in the artifact"
}
