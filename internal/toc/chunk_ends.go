package toc

import (
	"slices"
	"sort"
)

// chunkEnds sets where each chunk's compressed bytes end: at the next
// member, the smallest chunk offset greater than its own, else at the end
// of the payload. Writers list chunks in blob order, so the end of the
// chunks at the latest offset is the next larger offset that comes, and
// nothing but those chunks is held; a TOC out of order is handled at
// finish, by sorting every offset.
type chunkEnds struct {
	latest    int64      // the largest offset so far
	pending   []chunkRef // the chunks at latest, whose end is not known yet
	unordered bool       // an offset came after a larger one
}

// chunkRef is a file's chunk by index, which stays valid as the file's
// chunks grow.
type chunkRef struct {
	e *Entry
	i int
}

func newChunkEnds() chunkEnds { return chunkEnds{latest: -1} }

// add records the chunk e.Chunk(i), just added.
func (c *chunkEnds) add(e *Entry, i int) {
	if c.unordered {
		return
	}
	switch off := e.Chunk(i).Offset; {
	case off > c.latest:
		for _, r := range c.pending {
			r.e.setChunkEnd(r.i, off)
		}
		c.latest, c.pending = off, append(c.pending[:0], chunkRef{e, i})
	case off == c.latest:
		c.pending = append(c.pending, chunkRef{e, i})
	default:
		c.unordered, c.pending = true, nil
	}
}

// finish sets the ends not set yet: those of the last chunks, or every
// chunk's if the TOC was out of order.
func (c *chunkEnds) finish(ix *Index) {
	if !c.unordered {
		for _, r := range c.pending {
			r.e.setChunkEnd(r.i, ix.PayloadEnd)
		}
		c.pending = nil
		return
	}
	var offsets []int64
	_ = ix.Walk(func(e *Entry) error {
		for _, ch := range e.Chunks() {
			offsets = append(offsets, ch.Offset)
		}
		return nil
	})
	slices.Sort(offsets)
	offsets = slices.Compact(offsets)
	_ = ix.Walk(func(e *Entry) error {
		for i, ch := range e.Chunks() {
			j := sort.Search(len(offsets), func(j int) bool { return offsets[j] > ch.Offset })
			end := ix.PayloadEnd
			if j < len(offsets) {
				end = offsets[j]
			}
			e.setChunkEnd(i, end)
		}
		return nil
	})
}
