package pull

import (
	"runtime"
	"testing"

	"github.com/blobber-dev/blobber/internal/toc"
)

// The segments of a layer of many small files hold parts of the pull's one
// list of chunks rather than a copy of it, which at hundreds of thousands
// of files would hold every chunk twice; and they still cover every chunk,
// once, in blob order.
func TestSegmentsShareTheChunkList(t *testing.T) {
	const n, spacing = 20_000, 1 << 10
	chunks := make([]chunkRef, n)
	for i := range chunks {
		off := int64(i) * spacing
		c := toc.Chunk{Offset: off, Size: 100}
		c.SetEnd(off + spacing)
		e := toc.NewFile("f", []toc.Chunk{c})
		chunks[i] = chunkRef{e: e}
	}
	var ix toc.Index
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	segs := layerSegments(&ix, 0, n*spacing, chunks, segmentTarget)
	runtime.ReadMemStats(&after)
	if got, bound := after.TotalAlloc-before.TotalAlloc, uint64(n); got > bound {
		t.Errorf("cutting %d chunks into %d segments allocated %d bytes, more than %d", n, len(segs), got, bound)
	}
	i := 0
	for _, s := range segs {
		for _, r := range s.chunks {
			if r != chunks[i] {
				t.Fatalf("chunk %d of the segments is not the list's", i)
			}
			if c := r.chunk(); c.Offset < s.start || c.Offset+ix.Need(c) > s.end {
				t.Fatalf("chunk at %d outside its segment [%d, %d)", c.Offset, s.start, s.end)
			}
			i++
		}
	}
	if i != n {
		t.Fatalf("the segments hold %d of %d chunks", i, n)
	}
}
