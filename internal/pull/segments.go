package pull

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"slices"

	digest "github.com/opencontainers/go-digest"
	"golang.org/x/sync/errgroup"

	"github.com/blobber-dev/blobber/internal/compression"
	"github.com/blobber-dev/blobber/internal/toc"
)

// segmentTarget is how many compressed bytes one range request fetches
// during a pull: big enough that request overhead vanishes, small enough
// that several in flight stay within a bounded memory.
const segmentTarget = 4 << 20

// invalidator is a layer reader that can forget bytes it served (a cache),
// so that the next read of them fetches them again.
type invalidator interface {
	Invalidate(off, n int64) error
}

// promoter is a layer reader that keeps what it reads (a cache) and can
// be told that the caller verifies the whole layer itself: it then defers
// its own check of the complete layer, and keeps it once told that the
// layer verified.
type promoter interface {
	DeferPromote()
	PromoteVerified() error
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
	ix := p.layer.Index
	slices.SortStableFunc(p.chunks, func(a, b chunkRef) int { return cmp.Compare(a.c.Offset, b.c.Offset) })
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
	promote, _ := p.layer.Data.(promoter)
	if promote != nil {
		// This pull hashes every byte of the layer: the cache need not
		// read it all again to verify it once it is complete.
		promote.DeferPromote()
	}
	segs := p.segments()
	turns := make([]chan struct{}, len(segs)+1)
	for i := range turns {
		turns[i] = make(chan struct{})
	}
	close(turns[0])
	blobHash := sha256.New()
	fromNetwork := p.fetched()
	concurrency := max(1, p.opts.Concurrency)
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	// Segments take their bytes from the budget in blob order, here and
	// not in their goroutines: a later segment holding bytes while it
	// waits for its turn to be hashed could starve the earlier one it
	// waits for.
	budget := NewBudget(PullBudget)
	p.segmentBuffers = newBufferPool(concurrency, segmentBufferSize)
	p.chunkBuffers = newBufferPool(concurrency, 0)
	for i, s := range segs {
		cost := segmentCost(s, p.layer.Index.Compression)
		if budget.Acquire(ctx, cost) != nil {
			break
		}
		g.Go(func() error {
			defer budget.Release(cost)
			return p.fetchSegment(ctx, s, turns[i], turns[i+1], blobHash)
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	want := p.layer.Digest
	if got := digest.NewDigest(digest.SHA256, blobHash); got != want {
		cause := p.dropCached()
		if p.opts.FetchedBytes != nil && p.fetched()-fromNetwork >= p.layer.Index.BlobSize {
			cause = toc.ErrDigestMismatch // every byte came from the registry
		}
		return fmt.Errorf("layer is %s, the manifest says %s: %w", got, want, cause)
	}
	if promote != nil {
		// A cache that cannot be completed only costs speed next time.
		_ = promote.PromoteVerified()
	}
	return nil
}

func (p *puller) fetched() int64 {
	if p.opts.FetchedBytes == nil {
		return 0
	}
	return p.opts.FetchedBytes()
}

// segmentCost is what fetching s holds in memory: the buffer of its
// compressed bytes (at least segmentBufferSize), and the buffer of its
// largest chunk decoded (see decodedLimit); with zstd, whose stream
// decoder keeps a window of history as large as the frame it decodes,
// the chunk again.
func segmentCost(s segment, c compression.Compression) int64 {
	chunk := decodedLimit(s)
	if c == compression.Zstd {
		chunk *= 2
	}
	return max(s.end-s.start, segmentBufferSize) + chunk
}

// segmentBufferSize is the least capacity of a segment's buffer, so that
// one made for a short segment serves the next, longer one (a chunk's
// compressed bytes may pass segmentTarget by a little).
const segmentBufferSize = segmentTarget + 128<<10

// decodedLimit is the capacity of the buffer that the chunks of s are
// decoded into: room for the largest (the member from its start) and the
// slack a gzip member's end is decoded into, rounded up to a step of
// decodedStep so that buffers serve many segments (see getSized).
func decodedLimit(s segment) int64 {
	var chunk int64
	for _, r := range s.chunks {
		chunk = max(chunk, r.c.InnerOffset+r.c.Size)
	}
	need := chunk + 2*memberSlack
	return (need + decodedStep - 1) / decodedStep * decodedStep
}

// decodedStep is the step of decoded chunk buffers' sizes.
const decodedStep = 512 << 10

// memberSlack is room past a chunk that decoding may use (see toc's
// inflateMember).
const memberSlack = 16 << 10

func (p *puller) fetchSegment(ctx context.Context, s segment, myTurn <-chan struct{}, nextTurn chan<- struct{}, blobHash hash.Hash) error {
	ix, data := p.layer.Index, p.layer.Data
	buf := p.segmentBuffers.get(int(s.end - s.start))
	defer p.segmentBuffers.put(buf)
	if _, err := data.ReadAt(buf, s.start); err != nil {
		return fmt.Errorf("fetching bytes %d-%d: %w", s.start, s.end, err)
	}
	// Decoding reuses scratch, big enough for every chunk of s.
	scratch := p.chunkBuffers.getSized(int(decodedLimit(s)))
	defer func() { p.chunkBuffers.put(scratch) }()
	inv, cached := data.(invalidator)
	retried := false
	for _, r := range s.chunks {
		from := r.c.Offset - s.start
		decoded, err := ix.Decode(buf[from:from+ix.Need(*r.c)], *r.c, scratch)
		if err != nil && !retried && cached && errors.Is(err, toc.ErrDigestMismatch) {
			// Bytes from the cache that do not verify, every chunk before
			// them verified: drop them and fetch the segment again from
			// the registry.
			retried = true
			if inv.Invalidate(s.start, s.end-s.start) == nil {
				if _, err := data.ReadAt(buf, s.start); err != nil {
					return fmt.Errorf("fetching bytes %d-%d: %w", s.start, s.end, err)
				}
				decoded, err = ix.Decode(buf[from:from+ix.Need(*r.c)], *r.c, scratch)
			}
		}
		if err != nil {
			return fmt.Errorf("%s: %w", r.e.Name, err)
		}
		scratch = decoded
		if err := p.write(r, decoded); err != nil {
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
	if p.opts.Progress != nil {
		p.opts.Progress(int64(len(buf)))
	}
	return nil
}

// dropCached drops what the cache holds of the layer, after bytes of it
// failed a check, and returns the cause to report: ErrCachedLayerBad, for
// the caller to try once more from the registry, unless this is that try
// or the cache could not be emptied.
func (p *puller) dropCached() error {
	inv, cached := p.layer.Data.(invalidator)
	if !cached || inv.Invalidate(0, p.layer.Index.BlobSize) != nil || p.opts.Again {
		return toc.ErrDigestMismatch
	}
	return ErrCachedLayerBad
}
