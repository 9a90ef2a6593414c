package blobber

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"
	"unicode/utf16"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/blobber-dev/blobber/internal/extract"
	"github.com/blobber-dev/blobber/internal/pull"
	"github.com/blobber-dev/blobber/internal/toc"
	"github.com/blobber-dev/blobber/internal/treepath"
)

type pullOptions struct {
	overwrite   bool
	dereference bool
	selection   *Selection // nil: everything
	report      *PullReport
}

// PullOption configures one Pull. An option given a value it cannot take
// makes Pull fail before anything is fetched or written.
type PullOption func(*pullOptions) error

// WithOverwrite lets Pull replace existing files in the directory (each
// atomically). Without it, Pull refuses before downloading anything.
func WithOverwrite() PullOption {
	return func(o *pullOptions) error { o.overwrite = true; return nil }
}

// WithDereferenceLinks writes each symlink of the artifact as what it leads
// to inside the artifact: a link to a file as that file's content (a hard
// link to it), a link to a directory as a directory holding the same. It
// is the way to pull on Windows without the right to create symlinks
// (Developer Mode or the "Create symbolic links" privilege). A link that
// leads to nothing in the artifact, or into its own parents, fails the
// pull before anything is fetched, or before anything is placed; copies
// count against the entry limit (Limits.MaxFiles).
func WithDereferenceLinks() PullOption {
	return func(o *pullOptions) error { o.dereference = true; return nil }
}

// Pull extracts the artifact ref into dir, creating dir if needed, and
// returns the manifest's descriptor. The layer is fetched with parallel
// range requests and decoded in parallel; every chunk is checked against
// its digest before it is written, and into an empty directory the whole
// layer is also checked against the manifest's digest before any file
// appears under its name (into a directory that already holds files, each
// file is installed as it completes). An artifact holding entries a pull
// would refuse (devices, FIFOs, symlinks leading outside the tree) is
// refused whole, naming them, before anything is fetched. Nothing is
// written outside dir, and a pull that fails removes what it created,
// leaving what was already in dir untouched.
func (c *Client) Pull(ctx context.Context, ref, dir string, opts ...PullOption) (ocispec.Descriptor, error) {
	var po pullOptions
	for _, opt := range opts {
		if err := opt(&po); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("pull of %s: %w", ref, err)
		}
	}
	if err := po.checkSelection(); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("pull of %s: %w", ref, err)
	}
	img, err := c.Open(ctx, ref)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	defer img.Close()
	err = img.extractTo(ctx, dir, po, false)
	if errors.Is(err, pull.ErrCachedLayerBad) || img.mirrorPassedOver(err) {
		// The puller dropped the cached bytes: this time all come from
		// the registry.
		c.opts.logger.Warn("cached bytes did not verify; pulling again from the registry", "artifact", img.name)
		err = img.extractTo(ctx, dir, po, true)
	}
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return img.Descriptor(), nil
}

func (img *Image) extractTo(ctx context.Context, dir string, po pullOptions, again bool) (err error) {
	if po.selection != nil {
		return img.extractSelected(ctx, dir, po)
	}
	ix := img.index
	if err := refusals(img.name, ix, dir, nil); err != nil {
		return err
	}
	if err := extract.CheckFreeSpace(dir, ix.TotalBytes); err != nil {
		return wrapf(err, "pulling %s", img.name)
	}
	keepTimes := false
	_ = ix.Walk(func(e *toc.Entry) error {
		keepTimes = keepTimes || e.ModTime().After(time.Unix(1, 0))
		return nil
	})
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
	if err := ix.Walk(func(e *toc.Entry) error { return d.Check(e.Name, e.Type == toc.TypeDir) }); err != nil {
		return err
	}
	progress := img.client.opts.meter("download", ix.BlobSize)
	err = pull.Into(ctx, d, img.pullArtifact(), pull.Options{
		Concurrency:  img.client.opts.concurrency,
		Progress:     progress.add,
		FetchedBytes: img.fetched.bytes.Load,
		Again:        again,

		DereferenceLinks: po.dereference,
		MaxEntries:       cmp.Or(max(img.client.opts.limits.MaxFiles, 0), toc.DefaultLimits.MaxEntries),
	})
	if err != nil {
		return err
	}
	if err := d.Commit(); err != nil {
		return err
	}
	if po.report != nil {
		files := make([]*toc.Entry, 0, ix.Files) // sized once: a pull of many files ends at its peak
		_ = ix.Walk(func(e *toc.Entry) error { files = append(files, e); return nil })
		po.fill(files)
	}
	return nil
}

// refusals names, all at once, the entries of ix a pull into dir
// refuses (of those that writing chosen takes, unless chosen is nil),
// before anything is fetched or written.
func refusals(name string, ix *toc.Index, dir string, chosen []*toc.Entry) error {
	rules, err := extract.ProbeRules(dir)
	if err != nil {
		return wrapf(err, "pulling %s into %s", name, dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	target := pull.Target{Rules: rules, PathLen: len(utf16.Encode([]rune(abs)))}
	var r pull.Refusals
	if chosen == nil {
		r, err = pull.Refuse(ix, target)
	} else {
		r, err = pull.RefuseChosen(ix, chosen, target)
	}
	if err != nil {
		return err
	}
	var errs []error
	if r.Escaping.Total > 0 {
		errs = append(errs, fmt.Errorf("%s holds %s whose target is absolute or outside the tree: %s: %w",
			name, treepath.Plural(r.Escaping.Total, "symlink", "symlinks"), &r.Escaping, ErrPathTraversal))
	}
	if r.Unsupported.Total > 0 {
		errs = append(errs, fmt.Errorf("%s holds %s that blobber does not create (devices and FIFOs): %s: %w",
			name, treepath.Plural(r.Unsupported.Total, "entry", "entries"), &r.Unsupported, ErrUnsupportedEntry))
	}
	if r.Colliding.Total > 0 {
		errs = append(errs, fmt.Errorf("%s holds %s that would be one file in %s, whose file system ignores %s in names: %s: %w",
			name, treepath.Plural(r.Colliding.Total, "pair of entries", "pairs of entries"), dir, ignored(rules), &r.Colliding, ErrPathTraversal))
	}
	if r.Unholdable.Total > 0 {
		errs = append(errs, fmt.Errorf("%s holds %s that the file system of %s cannot hold: %s: %w",
			name, treepath.Plural(r.Unholdable.Total, "name", "names"), dir, &r.Unholdable, ErrUnsupportedEntry))
	}
	return errors.Join(errs...)
}

// ignored says what a folding file system ignores when it compares names.
func ignored(r treepath.Rules) string {
	switch {
	case r.FoldCase && r.FoldNormalization:
		return "case and Unicode normalization"
	case r.FoldCase:
		return "case"
	}
	return "Unicode normalization"
}
