package pull

import (
	"testing"
	"unsafe"

	"github.com/blobber-dev/blobber/internal/compression"
)

// A pull's buffers give way to a large index, so that the index and the
// buffers together stay within pullHeapBound where they can: the index of
// a tree of hundreds of thousands of small files holds more than the whole
// budget (the index sizes below are toc's bytes per file times the files).
// However large the index, a few segments still fit at once.
func TestPullSizingGivesWayToTheIndex(t *testing.T) {
	for _, tc := range []struct {
		files      int
		indexBytes int64
	}{{1_000, 170_000}, {10_000, 1_700_000}, {100_000, 17_000_000}, {200_000, 33_000_000}, {1_000_000, 170_000_000}} {
		size := sizingBeside(tc.indexBytes)
		if tc.indexBytes+PullBudget <= pullHeapBound && (size.budget != PullBudget || size.segment != segmentTarget) {
			t.Errorf("%d files: budget %d and segments of %d, want the whole %d and %d", tc.files, size.budget, size.segment, PullBudget, segmentTarget)
		}
		if total := tc.indexBytes + size.budget; total > max(pullHeapBound, tc.indexBytes+minPullBudget) {
			t.Errorf("%d files: index and budget hold %d bytes, more than %d", tc.files, total, pullHeapBound)
		}
		// A segment of small files costs its buffer and a decoded chunk.
		small := segment{start: 0, end: size.segment}
		cost := segmentCost(small, compression.Zstd, size)
		if fit := size.budget / cost; fit < 2 {
			t.Errorf("%d files: %d segments of %d bytes fit in the budget of %d", tc.files, fit, size.segment, size.budget)
		}
		t.Logf("%d files (index %d MB): budget %.1f MiB, segments of %.2f MiB", tc.files, tc.indexBytes/1e6, float64(size.budget)/(1<<20), float64(size.segment)/(1<<20))
	}
}

// The list of chunks, a word or two for each chunk of the tree, is part of
// what a pull holds beside its buffers: the budget gives way to it as to
// the index.
func TestPullSizingCountsTheChunkList(t *testing.T) {
	ix := indexOf(t, "a")
	chunks := make([]chunkRef, 0, 1_500_000)
	size := sizingFor(ix, chunks)
	list := int64(cap(chunks)) * int64(unsafe.Sizeof(chunkRef{}))
	if total := ix.HeapBytes() + list + size.budget; total > pullHeapBound {
		t.Errorf("index %d, list of chunks %d and budget %d hold %d bytes, more than %d", ix.HeapBytes(), list, size.budget, total, pullHeapBound)
	}
}
