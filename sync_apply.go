package blobber

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"time"

	digest "github.com/opencontainers/go-digest"

	"github.com/blobber-dev/blobber/internal/extract"
	"github.com/blobber-dev/blobber/internal/pull"
	"github.com/blobber-dev/blobber/internal/toc"
	"github.com/blobber-dev/blobber/internal/treediff"
)

// syncer applies a sync's plan to its directory.
type syncer struct {
	img   *Image
	dir   string
	opts  syncOptions
	state *syncState
	res   *SyncResult

	root *os.Root
	// written are the files of the artifact this sync wrote, and the
	// digest each was written with; known only once the writes are
	// committed.
	written map[string]digest.Digest
	// bySize lists the local files that may serve as copy sources (their
	// content stays as it is during the sync), by size, until hashed;
	// byDigest holds those whose content is known.
	bySize   map[int64][]string
	byDigest map[digest.Digest]string
	// patchedBytes counts the bytes fetched for files patched from their
	// local version (sync_chunks.go).
	patchedBytes int64
}

// apply writes what the plan says differs: the old side of each change
// is DIR, the new the artifact.
func (s *syncer) apply(ctx context.Context, plan *Diff) (err error) {
	ix := s.img.index
	root, err := os.OpenRoot(s.dir)
	if err != nil {
		return err
	}
	s.root = root // closed by the caller, once the state is recorded

	var replaced, removed []string // removed before the writes / after them
	var chosen []*toc.Entry        // written by pull.Entries (or, for files, copied)
	type modeChange struct {
		name string
		mode fs.FileMode
	}
	var modes []modeChange
	rewritten := map[string]bool{} // local paths whose content this sync changes
	for _, c := range plan.Changes {
		switch {
		case c.Kind == treediff.Deleted:
			if s.opts.delete || extract.IsTempName(path.Base(c.Path)) {
				removed = append(removed, c.Path)
			}
			continue
		case c.Kind == treediff.Modified && !c.ContentChanged && !c.TargetChanged:
			modes = append(modes, modeChange{c.Path, c.New.Mode})
			continue
		case c.Kind == treediff.TypeChanged:
			replaced = append(replaced, c.Path)
		}
		rewritten[c.Path] = true
		e, ok := ix.Lookup(c.Path)
		if !ok {
			return fmt.Errorf("%s: in the comparison but not in the artifact", c.Path)
		}
		chosen = append(chosen, e)
	}
	s.sources(plan, rewritten)
	if err := refusals(s.img.name, ix, s.dir, chosen); err != nil {
		return err
	}
	var need int64
	for _, e := range chosen {
		need += e.Size
	}
	if err := extract.CheckFreeSpace(s.dir, need); err != nil {
		return err
	}
	// What stands where the artifact has another type goes first: a
	// file cannot be put where a directory is, nor the reverse.
	for _, name := range replaced {
		if err := root.RemoveAll(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	d, err := extract.Open(s.dir, extract.Options{Overwrite: true, KeepTimes: keepsTimes(ix)})
	if err != nil {
		return classify(err)
	}
	defer func() {
		if err != nil {
			d.Abort()
		}
	}()
	for _, e := range chosen {
		if err := d.Check(e.Name, e.Type == toc.TypeDir); err != nil {
			return err
		}
	}
	written := map[string]digest.Digest{}
	fetch := chosen[:0:0]
	for _, e := range chosen {
		want, ok := ix.FileDigest(e)
		if e.Type == toc.TypeReg && ok && e.Size > 0 {
			if copied, err := s.copyLocal(ctx, d, e, want); err != nil {
				return err
			} else if copied {
				written[e.Name] = want
				s.res.Copied++
				continue
			}
		}
		if patched, err := s.patchFromLocal(ctx, d, e); err != nil {
			return err
		} else if patched {
			if ok {
				written[e.Name] = want
			}
			s.res.Fetched++
			continue
		}
		fetch = append(fetch, e)
	}
	progress := s.img.client.opts.meter("download", 0)
	err = pull.Entries(ctx, d, s.img.pullArtifact(), fetch, pull.Options{
		Concurrency: s.img.client.opts.concurrency,
		Progress:    progress.add,
		Planned: func(total int64) {
			s.res.FetchedBytes = total
			progress.setTotal(total)
		},
		MaxEntries: cmp.Or(max(s.img.client.opts.limits.MaxFiles, 0), toc.DefaultLimits.MaxEntries),
	})
	if err != nil {
		return err
	}
	s.res.FetchedBytes += s.patchedBytes
	if err := d.Commit(); err != nil {
		return err
	}
	for _, e := range fetch {
		if t := fileContent(ix, e); t != nil {
			if want, ok := ix.FileDigest(t); ok {
				written[e.Name] = want
			}
			s.res.Fetched++
		}
	}
	s.written = written
	for _, m := range modes {
		if err := root.Chmod(m.name, m.mode.Perm()); err != nil {
			return err
		}
	}
	// Only now that the artifact's content is in place; RemoveAll removes
	// a link as a link, and os.Root keeps every path inside DIR.
	replacedSet, gone := map[string]bool{}, map[string]bool{}
	for _, name := range replaced {
		replacedSet[name] = true
	}
	for _, name := range removed {
		switch {
		case under(replacedSet, name):
			continue // went with what the artifact replaced
		case under(gone, name):
			s.res.Deleted++ // went with its directory
			continue
		}
		gone[name] = true
		if err := root.RemoveAll(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		s.res.Deleted++
	}
	return nil
}

// under tells whether a directory above name is in dirs.
func under(dirs map[string]bool, name string) bool {
	for p := path.Dir(name); p != "."; p = path.Dir(p) {
		if dirs[p] {
			return true
		}
	}
	return false
}

// fileContent is the regular file whose content e is written with: e, a
// hardlink's target, or nil for what is not a file.
func fileContent(ix *toc.Index, e *toc.Entry) *toc.Entry {
	switch e.Type {
	case toc.TypeReg:
		return e
	case toc.TypeHardlink:
		if t, ok := ix.Lookup(e.LinkName()); ok && t.Type == toc.TypeReg {
			return t
		}
	}
	return nil
}

// keepsTimes tells whether pull writes the artifact's modification
// times: when any entry has one.
func keepsTimes(ix *toc.Index) bool {
	keep := false
	_ = ix.Walk(func(e *toc.Entry) error {
		keep = keep || e.ModTime().After(time.Unix(1, 0))
		return nil
	})
	return keep
}

// sources lists the local files whose content may be copied: files this
// sync does not rewrite, either unchanged (their digest known from the
// comparison) or only in DIR (hashed only if a file of their size is
// wanted).
func (s *syncer) sources(plan *Diff, rewritten map[string]bool) {
	s.bySize, s.byDigest = map[int64][]string{}, map[digest.Digest]string{}
	for name, f := range s.state.seen {
		if !rewritten[name] {
			s.byDigest[f.Digest] = name
		}
	}
	for _, c := range plan.Changes {
		if c.Kind == treediff.Deleted && c.Old.Type == treediff.File && c.Old.Size > 0 {
			s.bySize[c.Old.Size] = append(s.bySize[c.Old.Size], c.Path)
		}
	}
}

// source finds a local file whose content has digest want and size size,
// hashing the unknown candidates of that size (once each).
func (s *syncer) source(ctx context.Context, want digest.Digest, size int64) (string, bool) {
	if name, ok := s.byDigest[want]; ok {
		return name, true
	}
	for _, name := range s.bySize[size] {
		info, err := s.root.Lstat(name)
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		d, ok := s.state.Digest(name, info)
		if !ok {
			if d, err = s.hashLocal(ctx, name, size); err != nil {
				continue
			}
			s.res.Hashed++
			s.res.HashedBytes += size
		}
		s.byDigest[d] = name
	}
	delete(s.bySize, size)
	name, ok := s.byDigest[want]
	return name, ok
}

func (s *syncer) hashLocal(ctx context.Context, name string, size int64) (digest.Digest, error) {
	h := sha256.New()
	if err := s.readLocal(ctx, name, size, h); err != nil {
		return "", err
	}
	return digest.NewDigestFromBytes(digest.SHA256, h.Sum(nil)), nil
}

// readLocal copies the regular file name, which must be size bytes,
// into w.
func (s *syncer) readLocal(ctx context.Context, name string, size int64, w io.Writer) error {
	f, err := openNonBlocking(s.root, name)
	if err != nil {
		return err
	}
	defer f.Close()
	if info, err := f.Stat(); err != nil {
		return err
	} else if !info.Mode().IsRegular() || info.Size() != size {
		return fmt.Errorf("%s changed while the sync ran", name)
	}
	n, err := io.Copy(w, ctxReader{ctx, io.LimitReader(f, size+1)})
	if err == nil && n != size {
		err = fmt.Errorf("%s changed while the sync ran", name)
	}
	return err
}

// copyLocal writes e from a local file with its content, if there is one,
// checking the bytes copied against want; copied is false when there is
// none, or it no longer has that content (the file is then fetched).
func (s *syncer) copyLocal(ctx context.Context, d *extract.Dir, e *toc.Entry, want digest.Digest) (copied bool, err error) {
	src, ok := s.source(ctx, want, e.Size)
	if !ok {
		return false, nil
	}
	f, err := d.CreateFile(e.Name, e.Mode, e.Size, e.ModTime())
	if err != nil {
		return false, err
	}
	h := sha256.New()
	err = s.readLocal(ctx, src, e.Size, io.MultiWriter(h, io.NewOffsetWriter(f, 0)))
	if err != nil || digest.NewDigestFromBytes(digest.SHA256, h.Sum(nil)) != want {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return false, errors.Join(ctxErr, f.Discard())
		}
		return false, f.Discard()
	}
	return true, f.Commit()
}

// record is what the state keeps after the sync: the artifact's files it
// wrote, as they are now, and those it found right.
func (s *syncer) record() map[string]syncFile {
	files := map[string]syncFile{}
	for name, f := range s.state.seen {
		if e, ok := s.img.index.Lookup(name); ok && fileContent(s.img.index, e) != nil {
			files[name] = f
		}
	}
	if s.root == nil {
		return files
	}
	for name, d := range s.written {
		if info, err := s.root.Lstat(name); err == nil && info.Mode().IsRegular() {
			files[name] = syncFileOf(info, d)
		} else {
			delete(files, name)
		}
	}
	return files
}

// close releases the directory.
func (s *syncer) close() {
	if s.root != nil {
		s.root.Close()
	}
}

// ctxReader stops a local read when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
