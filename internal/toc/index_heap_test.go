package toc

import (
	"fmt"
	"testing"

	"github.com/containerd/stargz-snapshotter/estargz"

	"github.com/blobber-dev/blobber/internal/compression"
)

// TestHeapBytesMatchesTheHeap checks that an index's own account of its
// memory is what the heap holds for it, within a tenth: a pull sizes its
// buffers by it.
func TestHeapBytesMatchesTheHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an index of 100,000 files")
	}
	const n = 100_000
	per, ix := bytesPerFile(t, n, true)
	measured, counted := per*n, float64(ix.HeapBytes())
	t.Logf("heap %.0f bytes, index says %.0f", measured, counted)
	if counted < 0.9*measured || counted > 1.1*measured {
		t.Errorf("the index counts %.0f bytes, the heap holds %.0f for it", counted, measured)
	}
}

// TestHeapBytesOfMergedIndex checks that a merged index counts the
// memory of every part.
func TestHeapBytesOfMergedIndex(t *testing.T) {
	a, b := filesUnder(t, "a", 1000), filesUnder(t, "b", 1000)
	want := a.HeapBytes() + b.HeapBytes()
	if a.HeapBytes() < 1000*100 {
		t.Fatalf("an index of 1000 files counts %d bytes", a.HeapBytes())
	}
	m, err := Merge([]*Index{a, b}, Limits{MaxEntries: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if m.HeapBytes() != want {
		t.Errorf("merged index counts %d bytes, its parts %d", m.HeapBytes(), want)
	}
}

// filesUnder is the index of n small files in directory dir.
func filesUnder(t *testing.T, dir string, n int) *Index {
	t.Helper()
	const digest = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
	b := newBuilder(compression.Gzip, 1<<40, 1<<40, Limits{MaxEntries: 2 * n}.orDefault())
	for i := range n {
		te := &estargz.TOCEntry{Name: fmt.Sprintf("%s/file%06d", dir, i), Type: "reg", Size: 10, Mode: 0o644, Offset: int64(i), ChunkDigest: digest}
		if err := b.add(te); err != nil {
			t.Fatal(err)
		}
	}
	ix, err := b.finish(1)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}
