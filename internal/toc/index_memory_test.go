package toc

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/containerd/stargz-snapshotter/estargz"

	"github.com/blobber-dev/blobber/internal/compression"
)

// bytesPerFile adds n small files, in directories of 100, to a builder
// one TOC entry at a time as Read does, and returns the heap held per
// file: by the finished index, or, unless finished, just before finish (the
// index so far and all the builder keeps beside it: the peak of reading a
// TOC). It returns the index too.
func bytesPerFile(t *testing.T, n int, finished bool) (float64, *Index) {
	t.Helper()
	const digest = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b := newBuilder(compression.Gzip, 1<<40, 1<<40, Limits{MaxEntries: 2 * n}.orDefault())
	for i := range n {
		te := &estargz.TOCEntry{
			Name: fmt.Sprintf("dir%04d/file%06d.txt", i/100, i), Type: "reg", Size: 4096, Mode: 0o644,
			ModTime3339: "2024-05-01T12:00:00Z", Offset: int64(i) * 1024, Digest: digest, ChunkDigest: digest,
		}
		if err := b.add(te); err != nil {
			t.Fatal(err)
		}
	}
	if !finished {
		runtime.GC()
		runtime.ReadMemStats(&after)
	}
	ix, err := b.finish(1)
	if err != nil {
		t.Fatal(err)
	}
	if finished {
		runtime.GC()
		runtime.ReadMemStats(&after)
	}
	if ix.Files != n+n/100 {
		t.Fatalf("%d entries, want %d", ix.Files, n+n/100)
	}
	per := float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
	runtime.KeepAlive(ix)
	return per, ix
}

// TestIndexBytesPerFile pins what the index of a tree of many small files
// keeps per file, which is most of the memory an ls or pull of such a tree
// takes.
func TestIndexBytesPerFile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an index of 100,000 files")
	}
	per, _ := bytesPerFile(t, 100_000, true)
	t.Logf("%.0f bytes per file", per)
	const bound = 145
	if per > bound {
		t.Errorf("the index keeps %.0f bytes per file, more than %d", per, bound)
	}
}

// TestEntryModTimeRoundTrip checks that the compact modification time
// gives back the TOC's instant, and the zero time when it has none.
func TestEntryModTimeRoundTrip(t *testing.T) {
	var zero Entry
	if got := zero.ModTime(); got != (time.Time{}) {
		t.Errorf("zero entry: %v, want the zero time", got)
	}
	for _, s := range []string{"2024-05-01T12:00:00Z", "1969-12-31T23:59:59.123456789-07:00", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"} {
		want, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		var e Entry
		e.setModTime(want)
		if got := e.ModTime(); !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("%s: got %v", s, got)
		}
		// A time set again, in another form, replaces the first.
		var o Entry
		o.setModTime(want.Add(-time.Second).Truncate(time.Second))
		o.setModTime(want)
		if !o.sameModeAndTime(&e) {
			t.Errorf("%s set twice differs from once", s)
		}
	}
	// Outside the centuries nanoseconds since 1970 reach, a fraction of a
	// second is dropped.
	far := time.Date(1500, 6, 1, 12, 0, 0, 5, time.UTC)
	var e Entry
	e.setModTime(far)
	if got := e.ModTime(); !got.Equal(far.Truncate(time.Second)) {
		t.Errorf("%v: got %v", far, got)
	}
}
