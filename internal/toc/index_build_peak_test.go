package toc

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/containerd/stargz-snapshotter/estargz"
	digest "github.com/opencontainers/go-digest"

	"github.com/blobber-dev/blobber/internal/compression"
)

// TestBuildingBytesPerFile pins what reading the TOC of a tree of many
// small files holds per file at its peak, before the index is finished:
// no more than the finished index keeps (TestIndexBytesPerFile) and a
// little, so that the peak of an ls or pull is the index itself.
func TestBuildingBytesPerFile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an index of 100,000 files")
	}
	per, _ := bytesPerFile(t, 100_000, false)
	t.Logf("%.0f bytes per file while building", per)
	const bound = 145
	if per > bound {
		t.Errorf("building the index holds %.0f bytes per file, more than %d", per, bound)
	}
}

func reg(name string, offset int64) *estargz.TOCEntry {
	const digest = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
	return &estargz.TOCEntry{Name: name, Type: "reg", Size: 4, Offset: offset, ChunkDigest: digest}
}

func buildEntries(entries ...*estargz.TOCEntry) (*Index, error) {
	jtoc := &estargz.JTOC{Version: 1, Entries: entries}
	return newIndex(jtoc, compression.Gzip, 1000, 900, Limits{}.orDefault())
}

// Without a map of every name, the builder still refuses a name listed
// twice, and a file or link used as a directory, with the errors it gave.
func TestBuildRefusesDuplicatesAndNonDirectoryParents(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []*estargz.TOCEntry
		want    error
	}{
		{"file twice", []*estargz.TOCEntry{reg("d/a", 10), reg("d/b", 20), reg("d/a", 30)}, ErrNotEStargz},
		{"file then directory", []*estargz.TOCEntry{reg("a", 10), {Name: "a/", Type: "dir"}}, ErrNotEStargz},
		{"directory then file", []*estargz.TOCEntry{{Name: "a/", Type: "dir"}, reg("a", 10)}, ErrNotEStargz},
		{"implicit directory then file", []*estargz.TOCEntry{reg("a/b", 10), reg("a", 20)}, ErrNotEStargz},
		{"under a file", []*estargz.TOCEntry{reg("a", 10), reg("a/b", 20)}, ErrUnsafeName},
		{"deep under a file", []*estargz.TOCEntry{reg("a", 10), reg("a/b/c", 20)}, ErrUnsafeName},
		{"under a file, then listed", []*estargz.TOCEntry{reg("a", 10), reg("a/b", 20), {Name: "a/", Type: "dir"}}, ErrUnsafeName},
		{"under a symlink", []*estargz.TOCEntry{{Name: "l", Type: "symlink", LinkName: "/etc"}, reg("l/passwd", 10)}, ErrUnsafeName},
		{"hardlink to a later file", []*estargz.TOCEntry{{Name: "h", Type: "hardlink", LinkName: "f"}, reg("f", 10)}, ErrUnsafeName},
		{"hardlink to a directory", []*estargz.TOCEntry{{Name: "d/", Type: "dir"}, {Name: "h", Type: "hardlink", LinkName: "d"}}, ErrUnsafeName},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := buildEntries(tc.entries...); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

// A hardlink finds its target, before and after the first hardlink makes
// the builder index the files by name.
func TestBuildHardlinks(t *testing.T) {
	ix, err := buildEntries(reg("d/a", 10), &estargz.TOCEntry{Name: "h1", Type: "hardlink", LinkName: "d/a"}, reg("b", 20), &estargz.TOCEntry{Name: "h2", Type: "hardlink", LinkName: "b"})
	if err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{"h1": "d/a", "h2": "b"} {
		if e, ok := ix.Lookup(name); !ok || e.LinkName() != target || e.Size != 4 {
			t.Errorf("%s: %+v", name, e)
		}
	}
}

// A chunk's compressed bytes end at the next larger offset whatever the
// order the TOC lists them in.
func TestBuildChunkEnds(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []*estargz.TOCEntry
	}{
		{"in order", []*estargz.TOCEntry{reg("a", 10), reg("b", 20), reg("c", 20), reg("d", 40)}},
		{"out of order", []*estargz.TOCEntry{reg("d", 40), reg("b", 20), reg("a", 10), reg("c", 20)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ix, err := buildEntries(tc.entries...)
			if err != nil {
				t.Fatal(err)
			}
			for name, end := range map[string]int64{"a": 20, "b": 40, "c": 40, "d": 900} {
				if e, _ := ix.Lookup(name); e.Chunk(0).End() != end {
					t.Errorf("%s ends at %d, want %d", name, e.Chunk(0).End(), end)
				}
			}
		})
	}
}

// TestReadingAllocatesLittleBesideTheIndex pins what reading a TOC of many
// small files allocates per file, garbage included, beyond the index it
// keeps: the scanner lends each entry's name and digests rather than
// copying them, so the collector has little to do while a large index
// grows.
func TestReadingAllocatesLittleBesideTheIndex(t *testing.T) {
	const n = 20_000
	const sum = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	var doc strings.Builder
	doc.WriteString(`{"version":1,"entries":[`)
	for i := range n {
		if i > 0 {
			doc.WriteByte(',')
		}
		fmt.Fprintf(&doc, `{"name":"dir%04d/file%06d.txt","type":"reg","size":4096,"modtime":"2024-05-01T12:00:00Z","mode":420,"offset":%d,"digest":%q,"chunkDigest":%q}`, i/100, i, i*1024, sum, sum)
	}
	doc.WriteString(`]}`)
	raw := []byte(doc.String())
	compressed := gzipTOC(t, raw)
	b := newBuilder(compression.Gzip, 1<<40, 1<<40, Limits{MaxEntries: 2 * n}.orDefault())
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := readTOC(compression.Gzip, compressed, digest.FromBytes(raw), Limits{MaxTOCBytes: int64(len(raw))}, b.add); err != nil {
		t.Fatal(err)
	}
	ix, err := b.finish(1)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	extra := (float64(after.TotalAlloc-before.TotalAlloc) - float64(ix.HeapBytes())) / n
	t.Logf("%.0f bytes allocated per file beside the index", extra)
	const bound = 60
	if extra > bound {
		t.Errorf("reading the TOC allocated %.0f bytes per file beside the index, more than %d", extra, bound)
	}
}
