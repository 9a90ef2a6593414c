package layer

import (
	"fmt"
	"io"
	"math/rand"
	"runtime"
	"testing"
	"testing/fstest"
)

// The members of small files share their batch's buffer: a file costs the
// build a small part of its size in allocations, not a buffer of more than
// its size each, which the collector then had to reclaim all through a
// push of many small files.
func TestBuildSmallFilesShareBuffers(t *testing.T) {
	const size = 4000
	smallFiles := func(n int) fstest.MapFS {
		tree := fstest.MapFS{}
		rng := rand.New(rand.NewSource(5))
		for i := range n {
			data := make([]byte, size+i%97)
			rng.Read(data[:size/4])
			tree[fmt.Sprintf("d%02d/f%05d", i%20, i)] = &fstest.MapFile{Data: data, Mode: 0o644}
		}
		return tree
	}
	// What a build costs whatever its files (its pools, its encoders, the
	// TOC's spool) cancels out of the difference of two builds that share
	// their pools and whose TOCs both spill.
	opts := Options{Workers: 2, TempDir: t.TempDir()}
	opts.buffers = newBuildBuffers(newBuildBudget(DefaultChunkSize, opts.Workers).limit, 0)
	withSpoolMemory(t, 64<<10)
	allocated := func(tree fstest.MapFS) int64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if _, err := Build(t.Context(), tree, io.Discard, opts); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return int64(after.TotalAlloc - before.TotalAlloc)
	}
	const few, many = 1500, 4500
	fewFiles, manyFiles := smallFiles(few), smallFiles(many)
	allocated(fewFiles) // the package's first encoders and pools
	perFile := (allocated(manyFiles) - allocated(fewFiles)) / (many - few)
	t.Logf("allocated %d bytes per file of about %d bytes", perFile, size)
	// Its TOC entry, its member, its digests, and the tree's listing and
	// opening of it take about a kilobyte (a few hundred bytes more in
	// some runs); a buffer of its own is more than its size.
	if limit := int64(size * 3 / 4); perFile > limit {
		t.Errorf("a build allocated %d bytes per file of about %d bytes, want at most %d: do small files' members share a buffer?", perFile, size, limit)
	}
}
