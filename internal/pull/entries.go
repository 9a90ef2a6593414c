package pull

import (
	"context"
	"fmt"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/blobber-dev/blobber/internal/extract"
	"github.com/blobber-dev/blobber/internal/toc"
)

// Ranges of a selective fetch: chunks whose compressed bytes lie at most
// mergeGap apart share one range request, as long as it stays within a
// segment's size (a chunk bigger than that gets a request of its own). The
// gap is small next to a request's round trip, and bounds what a request
// reads that no chosen file needs.
const mergeGap = 32 << 10

// span is one range request of a selective fetch and the chunks it holds.
type span struct {
	layer      int
	start, end int64
	chunks     []chunkRef
}

// Entries writes the chosen entries of the layer into dir, fetching only
// the chunks of the chosen files: the directories above them first, with
// the artifact's modes, then the chosen directories, the files, and the
// links last. A hardlink whose target is not chosen gets the target's
// content (a later one links to it). Every chunk is checked against its
// digest, since no whole-layer digest vouches for a part; a chunk from a
// cache that fails its check is fetched again from the registry once. It
// does not commit dir: the caller does, or aborts it on an error.
func Entries(ctx context.Context, dir *extract.Dir, a Artifact, chosen []*toc.Entry, opts Options) error {
	p := &puller{art: a, dir: dir, opts: opts}
	for _, e := range parents(a.Index, chosen) {
		if err := dir.Mkdir(e.Name, e.Mode, e.ModTime()); err != nil {
			return err
		}
	}
	holder := map[string]string{} // a file's name → the chosen name that holds its content
	for _, e := range chosen {
		if e.Type == toc.TypeReg {
			holder[e.Name] = e.Name
		}
	}
	for _, e := range chosen {
		if e.Type == toc.TypeHardlink {
			if _, ok := holder[e.LinkName()]; ok {
				p.links = append(p.links, e)
				continue
			}
			target, ok := a.Index.Lookup(e.LinkName())
			if !ok || target.Type != toc.TypeReg {
				return fmt.Errorf("%s: hardlink to %s, which the artifact lacks: %w", e.Name, e.LinkName(), toc.ErrUnsafeName)
			}
			alias := *target
			alias.Name = e.Name
			holder[e.LinkName()] = e.Name
			if err := p.prepare(&alias); err != nil {
				return err
			}
			continue
		}
		if err := p.prepare(e); err != nil {
			return err
		}
	}
	p.size = sizingFor(a.Index, p.chunks)
	requests := spans(a.Index, p.chunks, p.size.segment)
	if opts.Planned != nil {
		var total int64
		for _, s := range requests {
			total += s.end - s.start
		}
		opts.Planned(total)
	}
	if err := p.fetchSpans(ctx, requests); err != nil {
		return err
	}
	for _, e := range p.links {
		var err error
		switch {
		case e.Type == toc.TypeSymlink:
			err = dir.Symlink(e.Name, e.LinkName(), e.ModTime())
		case holder[e.LinkName()] != e.Name:
			err = dir.Link(e.Name, holder[e.LinkName()])
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// spans groups chunks, sorted by layer and offset, into range requests
// of at most maxRange bytes, each within one layer.
func spans(ix *toc.Index, chunks []chunkRef, maxRange int64) []span {
	slices.SortStableFunc(chunks, byLayerAndOffset)
	var out []span
	for _, r := range chunks {
		c := r.chunk()
		end := c.Offset + ix.Need(c)
		if n := len(out); n > 0 {
			cur := &out[n-1]
			if cur.layer == int(c.Layer) && c.Offset <= cur.end+mergeGap && max(cur.end, end)-cur.start <= maxRange {
				cur.end = max(cur.end, end)
				cur.chunks = append(cur.chunks, r)
				continue
			}
		}
		out = append(out, span{layer: int(c.Layer), start: c.Offset, end: end, chunks: []chunkRef{r}})
	}
	return out
}

// fetchSpans runs the range requests in parallel, at most Concurrency at
// once and within a budget of the bytes they hold.
func (p *puller) fetchSpans(ctx context.Context, spans []span) error {
	concurrency := max(1, p.opts.Concurrency)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(concurrency)
	budget := NewBudget(p.size.budget)
	p.segmentBuffers, p.chunkBuffers = newBufferPools(concurrency, p.size)
	for _, s := range spans {
		cost := segmentCost(segment(s), p.art.Index.Compression, p.size)
		if budget.Acquire(gctx, cost) != nil {
			break
		}
		g.Go(func() error {
			defer budget.Release(cost)
			return p.fetchSpan(gctx, s)
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	// A span left out because the budget's wait was cancelled.
	return ctx.Err()
}

func (p *puller) fetchSpan(ctx context.Context, s span) error {
	buf := p.segmentBuffers.get(int(s.end - s.start))
	defer p.segmentBuffers.put(buf)
	if err := p.fetchAndWrite(ctx, segment(s), buf, nil, nil); err != nil {
		return err
	}
	if p.opts.Progress != nil {
		p.opts.Progress(int64(len(buf)))
	}
	return nil
}
