package blobber

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"slices"
	"sync"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"

	"github.com/blobber-dev/blobber/internal/extract"
	"github.com/blobber-dev/blobber/internal/toc"
)

type pullOptions struct {
	overwrite bool
}

// PullOption configures one Pull.
type PullOption func(*pullOptions)

// WithOverwrite lets Pull replace existing files in the directory (each
// atomically). Without it, Pull refuses before downloading anything.
func WithOverwrite() PullOption { return func(o *pullOptions) { o.overwrite = true } }

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
		opt(&po)
	}
	img, err := c.Open(ctx, ref)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	defer img.Close()
	err = img.extractTo(ctx, dir, po, false)
	if errors.Is(err, errCachedLayerBad) {
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

// errCachedLayerBad is a layer that did not match its digest, or a chunk
// that did not decode, in a first pull through the cache, which dropped
// what it held of the layer: the registry's bytes may be fine.
var errCachedLayerBad = fmt.Errorf("cached bytes do not verify: %w", ErrDigestMismatch)

// segmentTarget is how many compressed bytes one range request fetches
// during a pull: big enough that request overhead vanishes, small enough
// that several in flight stay within a bounded memory.
const segmentTarget = 4 << 20

func (img *Image) extractTo(ctx context.Context, dir string, po pullOptions, again bool) (err error) {
	ix := img.index
	if err := refusals(img.name, ix); err != nil {
		return err
	}
	if err := extract.CheckFreeSpace(dir, ix.TotalBytes); err != nil {
		return wrapf(err, "pulling %s", img.name)
	}
	keepTimes := false
	_ = ix.Walk(func(e *toc.Entry) error {
		keepTimes = keepTimes || e.ModTime.After(time.Unix(1, 0))
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
	p := &puller{img: img, dir: d, progress: img.client.opts.meter("download", ix.BlobSize), again: again}
	if err := ix.Walk(p.prepare); err != nil {
		return err
	}
	if err := p.fetchAll(ctx); err != nil {
		return err
	}
	for _, e := range p.links {
		if e.Type == toc.TypeHardlink {
			err = d.Link(e.Name, e.LinkName)
		} else {
			err = d.Symlink(e.Name, e.LinkName, e.ModTime)
		}
		if err != nil {
			return err
		}
	}
	return d.Commit()
}

// puller moves a layer's data into files: segments of the blob are fetched
// in parallel, their chunks decoded, checked against their digests and
// written where they belong, and the segments hashed in order to check the
// whole layer.
//
// Every chunk is checked, even where the layer's digest will vouch for the
// bytes: that digest says the bytes are the publisher's, not that the TOC
// describes them truly, and a pull must refuse whatever cat refuses, or a
// signed artifact could show one tree to readers and write another.
type puller struct {
	img      *Image
	dir      *extract.Dir
	chunks   []chunkRef // in blob order
	links    []*toc.Entry
	progress *meter
	again    bool // the second try of a pull whose cached bytes were bad
}

// chunkRef is one chunk to write. It points into the index rather than
// copying, so that a tree of many files costs little beyond its index.
type chunkRef struct {
	c    *toc.Chunk
	e    *toc.Entry
	file *pullFile // nil for a file of one chunk, written in one go
}

// pullFile is a file of several chunks being written; it is committed
// (renamed into place) when its last chunk lands.
type pullFile struct {
	mu        sync.Mutex
	f         *extract.File
	remaining int
}

func (p *puller) prepare(e *toc.Entry) error {
	switch e.Type {
	case toc.TypeDir:
		return p.dir.Mkdir(e.Name, e.Mode, e.ModTime)
	case toc.TypeSymlink, toc.TypeHardlink:
		p.links = append(p.links, e)
	case toc.TypeReg:
		if e.Size == 0 {
			f, err := p.dir.CreateFile(e.Name, e.Mode, 0, e.ModTime)
			if err != nil {
				return err
			}
			return f.Commit()
		}
		var pf *pullFile
		if len(e.Chunks) > 1 {
			pf = &pullFile{remaining: len(e.Chunks)}
		}
		for i := range e.Chunks {
			p.chunks = append(p.chunks, chunkRef{c: &e.Chunks[i], e: e, file: pf})
		}
	}
	return nil
}

type segment struct {
	start, end int64
	chunks     []chunkRef
}

// segments cuts the blob into contiguous ranges of about segmentTarget
// bytes that cover all of it, so the whole can be hashed, with each chunk's
// compressed bytes inside one range. Bytes no chunk needs (a hole, the
// TOC) are fetched only to be hashed, a segment at a time.
func (p *puller) segments() []segment {
	ix := p.img.index
	sortChunkRefs(p.chunks)
	var segs []segment
	cur := segment{}
	flush := func() {
		if cur.end > cur.start {
			segs = append(segs, cur)
		}
		cur = segment{start: cur.end, end: cur.end}
	}
	// gap extends the current segment to byte to, cutting segments as it goes.
	gap := func(to int64) {
		for cur.end < to {
			if cur.end-cur.start >= segmentTarget {
				flush()
			}
			cur.end = min(to, cur.start+segmentTarget)
		}
	}
	for i := 0; i < len(p.chunks); {
		off := p.chunks[i].c.Offset
		need := int64(0)
		j := i
		for ; j < len(p.chunks) && p.chunks[j].c.Offset == off; j++ {
			need = max(need, ix.Need(*p.chunks[j].c))
		}
		gap(off)
		if cur.end-cur.start+need > segmentTarget && cur.end > cur.start {
			flush()
		}
		cur.chunks = append(cur.chunks, p.chunks[i:j]...)
		cur.end = off + need
		i = j
	}
	gap(ix.BlobSize)
	flush()
	return segs
}

func (p *puller) fetchAll(ctx context.Context) error {
	if p.img.cached != nil {
		// This pull hashes every byte of the layer: the cache need not
		// read it all again to verify it once it is complete.
		p.img.cached.DeferPromote()
	}
	segs := p.segments()
	turns := make([]chan struct{}, len(segs)+1)
	for i := range turns {
		turns[i] = make(chan struct{})
	}
	close(turns[0])
	blobHash := sha256.New()
	fromNetwork := p.img.network.bytes.Load()
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(p.img.client.opts.concurrency)
	// Segments take their bytes from the budget in blob order, here and
	// not in their goroutines: a later segment holding bytes while it
	// waits for its turn to be hashed could starve the earlier one it
	// waits for.
	budget := newByteBudget(max(streamBudget, int64(p.img.client.opts.concurrency)*2*(segmentTarget+segmentTarget/4)))
	for i, s := range segs {
		cost := p.segmentCost(s)
		if budget.acquire(ctx, cost) != nil {
			break
		}
		g.Go(func() error {
			defer budget.release(cost)
			return p.fetchSegment(ctx, s, turns[i], turns[i+1], blobHash)
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	want := p.img.art.layer.Digest
	if got := digest.NewDigest(digest.SHA256, blobHash); got != want {
		cause := p.dropCached()
		if p.img.network.bytes.Load()-fromNetwork >= p.img.index.BlobSize {
			cause = ErrDigestMismatch // every byte came from the registry
		}
		return fmt.Errorf("layer is %s, the manifest says %s: %w", got, want, cause)
	}
	if p.img.cached != nil {
		// A cache that cannot be completed only costs speed next time.
		_ = p.img.cached.PromoteVerified()
	}
	return nil
}

// segmentCost is what fetching s holds in memory: its compressed bytes,
// and its largest chunk decoded (the member from its start).
func (p *puller) segmentCost(s segment) int64 {
	var chunk int64
	for _, r := range s.chunks {
		chunk = max(chunk, r.c.InnerOffset+r.c.Size)
	}
	return s.end - s.start + chunk
}

func (p *puller) fetchSegment(ctx context.Context, s segment, myTurn <-chan struct{}, nextTurn chan<- struct{}, blobHash hash.Hash) error {
	buf := getSegment(int(s.end - s.start))
	defer putSegment(buf)
	if _, err := p.img.blob.ReadAt(buf, s.start); err != nil {
		return fmt.Errorf("fetching bytes %d-%d: %w", s.start, s.end, err)
	}
	scratch := getChunkBuffer()
	defer func() { putChunkBuffer(scratch) }()
	retried := false
	for _, r := range s.chunks {
		from := r.c.Offset - s.start
		data, err := p.img.index.Decode(buf[from:from+p.img.index.Need(*r.c)], *r.c, scratch)
		if err != nil && !retried && p.img.cached != nil && errors.Is(err, toc.ErrDigestMismatch) {
			// Bytes from the cache that do not verify, every chunk before
			// them verified: drop them and fetch the segment again from
			// the registry.
			retried = true
			if p.img.cached.Invalidate(s.start, s.end-s.start) == nil {
				if _, err := p.img.blob.ReadAt(buf, s.start); err != nil {
					return fmt.Errorf("fetching bytes %d-%d: %w", s.start, s.end, err)
				}
				data, err = p.img.index.Decode(buf[from:from+p.img.index.Need(*r.c)], *r.c, scratch)
			}
		}
		if err != nil {
			return fmt.Errorf("%s: %w", r.e.Name, err)
		}
		scratch = data
		if err := p.write(r, data); err != nil {
			return err
		}
	}
	select {
	case <-myTurn:
	case <-ctx.Done():
		return ctx.Err()
	}
	blobHash.Write(buf)
	close(nextTurn)
	p.progress.add(int64(len(buf)))
	return nil
}

// dropCached drops what the cache holds of the layer, after bytes of it
// failed a check, and returns the cause to report: errCachedLayerBad, for
// Pull to try once more from the registry, unless this is that try or the
// cache could not be emptied.
func (p *puller) dropCached() error {
	if p.img.cached == nil || p.img.cached.Invalidate(0, p.img.index.BlobSize) != nil || p.again {
		return ErrDigestMismatch
	}
	return errCachedLayerBad
}

func (p *puller) write(r chunkRef, data []byte) error {
	e, pf := r.e, r.file
	create := func() (*extract.File, error) { return p.dir.CreateFile(e.Name, e.Mode, e.Size, e.ModTime) }
	if pf == nil && r.c.FileOffset == 0 && int64(len(data)) == e.Size {
		return p.dir.WriteFile(e.Name, e.Mode, data, e.ModTime)
	}
	if pf == nil {
		f, err := create()
		if err != nil {
			return err
		}
		if _, err := f.WriteAt(data, r.c.FileOffset); err != nil {
			return errors.Join(err, f.Discard())
		}
		return f.Commit()
	}
	pf.mu.Lock()
	if pf.f == nil {
		f, err := create()
		if err != nil {
			pf.mu.Unlock()
			return err
		}
		pf.f = f
	}
	f := pf.f
	pf.mu.Unlock()
	if _, err := f.WriteAt(data, r.c.FileOffset); err != nil {
		return err
	}
	pf.mu.Lock()
	pf.remaining--
	done := pf.remaining == 0
	pf.mu.Unlock()
	if done {
		return f.Commit()
	}
	return nil
}

func sortChunkRefs(refs []chunkRef) {
	slices.SortStableFunc(refs, func(a, b chunkRef) int { return cmp.Compare(a.c.Offset, b.c.Offset) })
}
