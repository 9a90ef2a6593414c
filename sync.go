package blobber

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/blobber-dev/blobber/internal/extract"
	"github.com/blobber-dev/blobber/internal/toc"
	"github.com/blobber-dev/blobber/internal/treediff"
)

// SyncOption configures Sync.
type SyncOption func(*syncOptions) error

type syncOptions struct {
	delete, dryRun, checksum bool
	selection                *Selection // nil: the whole artifact and DIR
}

// WithSyncDelete makes Sync remove what DIR holds that the artifact does
// not, after the artifact's content is in place. Links are removed as
// links, never followed.
func WithSyncDelete() SyncOption {
	return func(o *syncOptions) error { o.delete = true; return nil }
}

// WithSyncDryRun makes Sync return its plan (SyncResult.Plan) and change
// nothing.
func WithSyncDryRun() SyncOption {
	return func(o *syncOptions) error { o.dryRun = true; return nil }
}

// WithSyncChecksum makes Sync hash every local file whose type and size
// match the artifact's, instead of trusting what the previous sync
// recorded of it: an edit that kept a file's size and time is found.
func WithSyncChecksum() SyncOption {
	return func(o *syncOptions) error { o.checksum = true; return nil }
}

// SyncResult is what a Sync did (or, with WithSyncDryRun, would do).
type SyncResult struct {
	// Plan lists the changes from DIR (old) to the artifact (new), as
	// `blobber diff DIR REF` prints them. Deletions are applied only with
	// WithSyncDelete.
	Plan *Diff
	// Fetched files were read from the registry; Copied ones from a file
	// of DIR with the same content; Deleted paths removed; Unchanged files
	// of the artifact were already right.
	Fetched, Copied, Deleted, Unchanged int
	// FetchedBytes counts the layers' bytes the range requests read.
	FetchedBytes int64
	// Hashed and HashedBytes count the local files read to compare them.
	Hashed      int
	HashedBytes int64
}

// Sync makes the local directory dir equal to the artifact ref, fetching
// only what differs. A file is taken as unchanged when what the previous
// sync into dir recorded in the cache (its inode, size and modification
// time) still describes it; a file never recorded is hashed once, and so
// is every file of the right size without a cache or with
// WithSyncChecksum. A file whose content is already elsewhere in dir is
// copied from there (and checked); the others' chunks are fetched by range
// requests and checked, and every file is written under a temporary name
// and renamed, so that no name ever holds a part of a file. Modes and
// times are written as Pull writes them. A sync that fails undoes what it
// wrote; one that is killed leaves only hidden temporary files, which the
// next sync removes.
func (c *Client) Sync(ctx context.Context, ref, dir string, opts ...SyncOption) (*SyncResult, error) {
	if _, err := parseSyncOptions(opts); err != nil {
		return nil, fmt.Errorf("syncing %s into %s: %w", ref, dir, err)
	}
	img, err := c.Open(ctx, ref)
	if err != nil {
		return nil, err
	}
	defer img.Close()
	return img.Sync(ctx, dir, opts...)
}

func parseSyncOptions(opts []SyncOption) (syncOptions, error) {
	var o syncOptions
	for _, opt := range opts {
		if opt == nil {
			return o, invalidOption("nil SyncOption")
		}
		if err := opt(&o); err != nil {
			return o, err
		}
	}
	return o, nil
}

// Sync makes dir equal to img, as Client.Sync does.
func (img *Image) Sync(ctx context.Context, dir string, opts ...SyncOption) (res *SyncResult, err error) {
	o, err := parseSyncOptions(opts)
	if err != nil {
		return nil, fmt.Errorf("syncing %s into %s: %w", img.name, dir, err)
	}
	defer func() {
		if err != nil {
			err = wrapf(err, "syncing %s into %s", img.name, dir)
		}
	}()
	if info, err := os.Stat(dir); err == nil && !info.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	} else if errors.Is(err, fs.ErrNotExist) && !o.dryRun {
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return nil, err
		}
	}
	state := img.client.loadSyncState(dir, o.checksum)
	plan, err := img.syncPlan(ctx, dir, state)
	if err != nil {
		return nil, err
	}
	files := countFiles(img.index)
	if o.selection != nil {
		sel, err := o.selection.compile()
		if err != nil {
			return nil, invalidOption("WithSyncSelect: %v", err)
		}
		plan, files = selected(plan, sel), img.selectedFiles(sel)
	}
	res = &SyncResult{Plan: plan, Hashed: plan.Hashed, HashedBytes: plan.HashedBytes, Unchanged: files}
	for _, c := range plan.Changes {
		if c.New != nil && c.New.Type == treediff.File && (c.Kind != treediff.Modified || c.ContentChanged) {
			res.Unchanged--
		}
	}
	if o.dryRun {
		return res, nil
	}
	s := &syncer{img: img, dir: dir, opts: o, state: state, res: res}
	err = s.apply(ctx, plan)
	state.save(dir, s.record())
	s.close()
	if err != nil {
		return nil, err
	}
	return res, nil
}

// syncPlan compares dir with img (a directory that does not exist is
// empty) and returns the comparison from dir to img.
func (img *Image) syncPlan(ctx context.Context, dir string, state *syncState) (*Diff, error) {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		d, err := treediff.Compare(ctx, &toc.Index{Root: &toc.Entry{Type: toc.TypeDir}}, img.index)
		if err != nil {
			return nil, err
		}
		d.Old, d.New = dir, img.name
		return d, nil
	}
	tree, err := OpenTree(dir)
	if err != nil {
		return nil, err
	}
	defer tree.Close()
	d, err := treediff.CompareDir(ctx, img.index, tree, treediff.DirOptions{
		State:       state,
		DiskMode:    func(m fs.FileMode) fs.FileMode { return extract.DiskPerm(m) },
		IgnoreModes: !localModesCompared,
	})
	if err != nil {
		return nil, err
	}
	plan := d.Reverse()
	plan.Old, plan.New = dir, img.name
	return plan, nil
}

// countFiles counts the regular files (hardlinks included) of ix.
func countFiles(ix *toc.Index) int {
	n := 0
	_ = ix.Walk(func(e *toc.Entry) error {
		if e.Type == toc.TypeReg || e.Type == toc.TypeHardlink {
			n++
		}
		return nil
	})
	return n
}
