package pull

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"

	digest "github.com/opencontainers/go-digest"
	"golang.org/x/sync/errgroup"

	"github.com/blobber-dev/blobber/internal/compression"
	"github.com/blobber-dev/blobber/internal/toc"
)

// invalidator is a layer reader that can forget bytes it served (a cache),
// so that the next read of them fetches them again.
type invalidator interface {
	Invalidate(off, n int64) error
}

// promoter is a layer reader that keeps what it reads (a cache) and can
// be told that the caller verifies the whole layer itself: it then defers
// its own check of the complete layer, and keeps it once told that the
// layer verified. The caller writes what it hashed, in blob order, to the
// writer DeferPromote returns, if any: that copy is what is kept.
type promoter interface {
	DeferPromote() io.Writer
	PromoteVerified() error
}

type segment struct {
	layer      int
	start, end int64
	chunks     []chunkRef
}

// segments cuts each layer's blob into contiguous ranges of about
// segmentTarget bytes that cover all of it, so the whole can be hashed,
// with each chunk's compressed bytes inside one range. Bytes no chunk
// needs (a hole, the TOC) are fetched only to be hashed, a segment at a
// time. The result holds each layer's segments in blob order.
func (p *puller) segments() [][]segment {
	slices.SortStableFunc(p.chunks, byLayerAndOffset)
	out := make([][]segment, len(p.art.Layers))
	rest := p.chunks
	for i, l := range p.art.Layers {
		n := 0
		for n < len(rest) && int(rest[n].chunk().Layer) == i {
			n++
		}
		out[i] = layerSegments(p.art.Index, i, l.Size, rest[:n], p.size.segment)
		rest = rest[n:]
	}
	return out
}

// layerSegments cuts one layer of blobSize bytes, whose chunks are given
// in blob order, into segments of about target bytes. Each segment's
// chunks are a part of chunks, not a copy: at hundreds of thousands of
// files, a copy would hold every chunk twice.
func layerSegments(ix *toc.Index, layer int, blobSize int64, chunks []chunkRef, target int64) []segment {
	var segs []segment
	cur := segment{layer: layer}
	first, next := 0, 0 // chunks[first:next] are the current segment's
	flush := func() {
		if next > first {
			cur.chunks = chunks[first:next:next]
		}
		if cur.end > cur.start {
			segs = append(segs, cur)
		}
		cur = segment{layer: layer, start: cur.end, end: cur.end}
		first = next
	}
	// gap extends the current segment to byte to, cutting segments as it goes.
	gap := func(to int64) {
		for cur.end < to {
			if cur.end-cur.start >= target {
				flush()
			}
			cur.end = min(to, cur.start+target)
		}
	}
	for next < len(chunks) {
		off := chunks[next].chunk().Offset
		need := int64(0)
		j := next
		for ; j < len(chunks) && chunks[j].chunk().Offset == off; j++ {
			need = max(need, ix.Need(chunks[j].chunk()))
		}
		gap(off)
		if cur.end-cur.start+need > target && cur.end > cur.start {
			flush()
		}
		next = j
		cur.end = off + need
	}
	gap(blobSize)
	flush()
	return segs
}

// interleave orders the layers' segments for fetching: one of each of
// up to width layers in turn, so that they are fetched in parallel, each
// in its own blob order; the next layer joins when one of them is done.
// Each layer being read holds a response open (see aheadReader): width
// bounds them, however many layers the artifact has.
func interleave(perLayer [][]segment, width int) []segment {
	var out []segment
	next := make([]int, len(perLayer)) // each layer's next segment
	var reading []int                  // the layers being read
	joined := 0
	for {
		for len(reading) < max(1, width) && joined < len(perLayer) {
			reading = append(reading, joined)
			joined++
		}
		if len(reading) == 0 {
			return out
		}
		left := reading[:0]
		for _, l := range reading {
			if next[l] < len(perLayer[l]) {
				out = append(out, perLayer[l][next[l]])
				next[l]++
			}
			if next[l] < len(perLayer[l]) {
				left = append(left, l)
			}
		}
		reading = left
	}
}

// aheadReader is a layer reader that can be told that a stretch of the
// layer will be read in order, one read after another, so that it asks
// the registry for the whole stretch in one request (fetch.Blob.ReadAhead).
type aheadReader interface {
	ReadAhead(off, n int64)
}

// layerHash hashes one layer's segments in blob order: a segment waits
// for its turn, the close of the channel of the segment before it. The
// bytes hashed also go to the cache's copy of the layer, if it keeps one.
// The segments read their bytes in the same order, one at a time (reads):
// the layer was announced to its reader as read so (see aheadReader), and
// its segments are decoded and written in parallel all the same.
type layerHash struct {
	hash  hash.Hash
	copy  io.Writer
	turns []chan struct{}
	reads []chan struct{}
}

// newTurns returns n+1 channels, the first closed: the turns of n segments.
func newTurns(n int) []chan struct{} {
	turns := make([]chan struct{}, n+1)
	for i := range turns {
		turns[i] = make(chan struct{})
	}
	close(turns[0])
	return turns
}

// wait waits for a turn, or for ctx to end.
func wait(ctx context.Context, turn <-chan struct{}) error {
	select {
	case <-turn:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *puller) fetchAll(ctx context.Context) error {
	copies := make([]io.Writer, len(p.art.Layers))
	for i, l := range p.art.Layers {
		if promote, ok := l.Data.(promoter); ok {
			// This pull hashes every byte of the layer: the cache need
			// not read it all again to verify it once it is complete.
			copies[i] = promote.DeferPromote()
		}
		if r, ok := l.Data.(aheadReader); ok {
			r.ReadAhead(0, l.Size)
		}
	}
	p.size = sizingFor(p.art.Index, p.chunks)
	perLayer := p.segments()
	hashes := make([]layerHash, len(perLayer))
	for i, segs := range perLayer {
		hashes[i] = layerHash{hash: sha256.New(), copy: copies[i], turns: newTurns(len(segs)), reads: newTurns(len(segs))}
	}
	fromNetwork := p.fetched()
	concurrency := max(1, p.opts.Concurrency)
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	// Segments take their bytes from the budget in each layer's blob
	// order, here and not in their goroutines: a later segment holding
	// bytes while it waits for its turn to be hashed could starve the
	// earlier one it waits for.
	budget := NewBudget(p.size.budget)
	p.segmentBuffers, p.chunkBuffers = newBufferPools(concurrency, p.size)
	next := make([]int, len(perLayer)) // each layer's next segment
	for _, s := range interleave(perLayer, concurrency) {
		cost := segmentCost(s, p.art.Index.Compression, p.size)
		if budget.Acquire(ctx, cost) != nil {
			break
		}
		h, turn := hashes[s.layer], next[s.layer]
		next[s.layer]++
		g.Go(func() error {
			defer budget.Release(cost)
			return p.fetchSegment(ctx, s, turn, h)
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for i, l := range p.art.Layers {
		if got := digest.NewDigest(digest.SHA256, hashes[i].hash); got != l.Digest {
			cause := p.dropCached(l)
			if p.opts.FetchedBytes != nil && p.fetched()-fromNetwork >= p.art.Index.BlobSize {
				cause = toc.ErrDigestMismatch // every byte came from the registry
			}
			return fmt.Errorf("layer is %s, the manifest says %s: %w", got, l.Digest, cause)
		}
	}
	for _, l := range p.art.Layers {
		if promote, ok := l.Data.(promoter); ok {
			// A cache that cannot be completed only costs speed next time.
			_ = promote.PromoteVerified()
		}
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
// compressed bytes (at least the sizing's bufferSize), and the buffer of its
// largest chunk decoded (see decodedLimit); with zstd, whose stream
// decoder keeps a window of history as large as the frame it decodes,
// the chunk again.
func segmentCost(s segment, c compression.Compression, size sizing) int64 {
	chunk := decodedLimit(s)
	if c == compression.Zstd {
		chunk *= 2
	}
	return max(s.end-s.start, size.bufferSize()) + chunk
}

// decodedLimit is the capacity of the buffer that the chunks of s are
// decoded into: room for the largest (the member from its start) and the
// slack a gzip member's end is decoded into, rounded up to a step of
// decodedStep so that buffers serve many segments (see getSized).
func decodedLimit(s segment) int64 {
	var chunk int64
	for _, r := range s.chunks {
		c := r.chunk()
		chunk = max(chunk, c.InnerOffset+c.Size)
	}
	need := chunk + 2*memberSlack
	return (need + decodedStep - 1) / decodedStep * decodedStep
}

// decodedStep is the step of decoded chunk buffers' sizes.
const decodedStep = 512 << 10

// memberSlack is room past a chunk that decoding may use (see toc's
// inflateMember).
const memberSlack = 16 << 10

// fetchSegment fetches s, the layer's segment number turn, and writes its
// files, then hashes its bytes in the layer's blob order.
func (p *puller) fetchSegment(ctx context.Context, s segment, turn int, h layerHash) error {
	buf := p.segmentBuffers.get(int(s.end - s.start))
	defer p.segmentBuffers.put(buf)
	if err := p.fetchAndWrite(ctx, s, buf, h.reads[turn], h.reads[turn+1]); err != nil {
		return err
	}
	if err := wait(ctx, h.turns[turn]); err != nil {
		return err
	}
	h.hash.Write(buf)
	if h.copy != nil {
		// A copy that cannot be written is not kept: it only costs
		// speed next time.
		_, _ = h.copy.Write(buf)
	}
	close(h.turns[turn+1])
	if p.opts.Progress != nil {
		p.opts.Progress(int64(len(buf)))
	}
	return nil
}

// dropCached drops what the cache holds of layer l, after bytes of it
// failed a check, and returns the cause to report: ErrCachedLayerBad, for
// the caller to try once more from the registry, unless this is that try
// or the cache could not be emptied.
func (p *puller) dropCached(l Layer) error {
	inv, cached := l.Data.(invalidator)
	if !cached || inv.Invalidate(0, l.Size) != nil || p.opts.Again {
		return toc.ErrDigestMismatch
	}
	return ErrCachedLayerBad
}

// fetchAndWrite reads the bytes of s into buf (its length) in its turn,
// if it has one, and passes the turn on to next once read; then it
// decodes, verifies and writes each of its chunks. Bytes from a cache that
// do not verify, every chunk before them verified, are dropped and read
// once more from the registry.
func (p *puller) fetchAndWrite(ctx context.Context, s segment, buf []byte, turn <-chan struct{}, next chan<- struct{}) error {
	ix, data := p.art.Index, p.art.Layers[s.layer].Data
	read := func() error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := data.ReadAt(buf, s.start); err != nil {
			return fmt.Errorf("fetching bytes %d-%d: %w", s.start, s.end, err)
		}
		return nil
	}
	if turn != nil {
		if err := wait(ctx, turn); err != nil {
			return err
		}
	}
	err := read()
	if next != nil {
		close(next)
	}
	if err != nil {
		return err
	}
	// Decoding reuses scratch, big enough for every chunk of s.
	scratch := p.chunkBuffers.getSized(int(decodedLimit(s)))
	// The pool's own buffer goes back, whatever decoding grew for a chunk:
	// the pool counts the bytes it made.
	defer p.chunkBuffers.put(scratch)
	inv, cached := data.(invalidator)
	retried := false
	dst := scratch
	for _, r := range s.chunks {
		c := r.chunk()
		from := c.Offset - s.start
		decoded, err := ix.Decode(buf[from:from+ix.Need(c)], c, dst)
		if err != nil && !retried && cached && errors.Is(err, toc.ErrDigestMismatch) {
			retried = true
			if inv.Invalidate(s.start, s.end-s.start) == nil {
				if err := read(); err != nil {
					return err
				}
				decoded, err = ix.Decode(buf[from:from+ix.Need(c)], c, dst)
			}
		}
		if err != nil {
			return fmt.Errorf("%s: %w", r.e.Name, err)
		}
		dst = decoded
		if err := p.write(r, decoded); err != nil {
			return err
		}
	}
	return nil
}
