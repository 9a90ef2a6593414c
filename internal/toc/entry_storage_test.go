package toc

import (
	"fmt"
	"math"
	"testing"
	"unsafe"

	"github.com/containerd/stargz-snapshotter/estargz"

	"github.com/blobber-dev/blobber/internal/compression"
)

// TestEntrySizes pins the sizes that make an index small: an Entry of
// six words, a Chunk of its digest and eight words, the record of a file
// of one chunk its digest and four.
func TestEntrySizes(t *testing.T) {
	if got := unsafe.Sizeof(chunkRecord{}); got > 48 {
		t.Errorf("a chunkRecord is %d bytes, more than 48", got)
	}
	if got := unsafe.Sizeof(Entry{}); got > 48 {
		t.Errorf("an Entry is %d bytes, more than 48", got)
	}
	if got := unsafe.Sizeof(Chunk{}); got > 72 {
		t.Errorf("a Chunk is %d bytes, more than 72", got)
	}
}

// A file whose chunks outgrow the chunk block they started in moves to a
// new block and still reads as one contiguous run, as do the files around
// it; directories and links keep their own data in the same pointer.
func TestChunkBlocksKeepFilesContiguous(t *testing.T) {
	const digest = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
	const small, bigChunks = chunkBlock - 3, 2*chunkBlock + 5
	var entries []*estargz.TOCEntry
	var offset int64
	file := func(name string, chunks int) {
		for i := range chunks {
			te := &estargz.TOCEntry{Name: name, Type: "chunk", Offset: offset, ChunkOffset: int64(i) * 10, ChunkSize: 10, ChunkDigest: digest}
			if i == 0 {
				te.Type, te.Size, te.Mode = "reg", int64(chunks)*10, 0o644
			}
			entries = append(entries, te)
			offset += 100
		}
	}
	entries = append(entries, &estargz.TOCEntry{Name: "d/", Type: "dir", Mode: 0o755})
	for i := range small {
		file(fmt.Sprintf("d/a%05d", i), 1)
	}
	file("d/big", bigChunks)
	file("d/c", 3)
	entries = append(entries, &estargz.TOCEntry{Name: "d/link", Type: "symlink", LinkName: "big"})
	ix, err := newIndex(&estargz.JTOC{Version: 1, Entries: entries}, compression.Gzip, offset+1000, offset, Limits{}.orDefault())
	if err != nil {
		t.Fatal(err)
	}
	var next int64
	check := func(name string, chunks int) {
		t.Helper()
		e, ok := ix.Lookup(name)
		if !ok {
			t.Fatalf("%s missing", name)
		}
		if e.NumChunks() != chunks || e.Children() != nil || e.LinkName() != "" {
			t.Fatalf("%s: %d chunks, children %v, link %q; want %d chunks only", name, e.NumChunks(), e.Children(), e.LinkName(), chunks)
		}
		for i, c := range e.Chunks() {
			if c.Offset != next || c.FileOffset != int64(i)*10 || c.Size != 10 || c.End() != min(next+100, offset) {
				t.Fatalf("%s chunk %d: %+v (end %d), want offset %d, file offset %d", name, i, c, c.End(), next, i*10)
			}
			next += 100
		}
	}
	for i := range small {
		check(fmt.Sprintf("d/a%05d", i), 1)
	}
	check("d/big", bigChunks)
	check("d/c", 3)
	if d, _ := ix.Lookup("d"); len(d.Children()) != small+3 || d.NumChunks() != 0 || d.LinkName() != "" {
		t.Errorf("d: %d children, %d chunks, link %q", len(d.Children()), d.NumChunks(), d.LinkName())
	}
	if l, _ := ix.Lookup("d/link"); l.LinkName() != "big" || l.NumChunks() != 0 || l.Children() != nil {
		t.Errorf("d/link: target %q, %d chunks", l.LinkName(), l.NumChunks())
	}
}

// A chunk whose next member is more than 4 GiB away keeps a clamped span,
// which changes no read: Need is what it was with the whole distance.
func TestChunkSpanClampedChangesNoRead(t *testing.T) {
	const far = int64(6) << 30
	ix, err := newIndex(&estargz.JTOC{Version: 1, Entries: []*estargz.TOCEntry{reg("a", 10), reg("b", 10+far)}},
		compression.Gzip, far+1000, far+900, Limits{}.orDefault())
	if err != nil {
		t.Fatal(err)
	}
	a, _ := ix.Lookup("a")
	c := a.Chunk(0)
	if c.End() != 10+math.MaxUint32 {
		t.Errorf("end %d, want %d", c.End(), 10+int64(math.MaxUint32))
	}
	raw := c.InnerOffset + c.Size
	if got, want := ix.Need(c), raw+raw/1024+64<<10; got != want {
		t.Errorf("Need %d, want %d", got, want)
	}
	b, _ := ix.Lookup("b")
	if got := b.Chunk(0).End(); got != far+900 {
		t.Errorf("the last chunk ends at %d, want the payload's end %d", got, far+900)
	}
}

// A file of one chunk is kept as a record unless its chunk starts inside
// its member; either way it reads back as the TOC gave it, and a merge
// marks its layer.
func TestOneChunkFilesReadBack(t *testing.T) {
	const digest = "sha256:0101010101010101010101010101010101010101010101010101010101010101"
	entries := []*estargz.TOCEntry{
		{Name: "whole", Type: "reg", Size: 7, Offset: 10, ChunkDigest: digest},
		{Name: "inner", Type: "reg", Size: 5, Offset: 10, InnerOffset: 7, ChunkDigest: digest},
		{Name: "last", Type: "reg", Size: 3, Offset: 50, ChunkSize: 3, ChunkDigest: digest},
	}
	a, err := newIndex(&estargz.JTOC{Version: 1, Entries: entries}, compression.Gzip, 100, 90, Limits{}.orDefault())
	if err != nil {
		t.Fatal(err)
	}
	b := filesUnder(t, "b", 1)
	ix, err := Merge([]*Index{b, a}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Chunk{
		"whole": {Offset: 10, Size: 7, Layer: 1},
		"inner": {Offset: 10, InnerOffset: 7, Size: 5, Layer: 1},
		"last":  {Offset: 50, Size: 3, Layer: 1},
	}
	for name, w := range want {
		e, _ := ix.Lookup(name)
		if got := e.oneChunk(); got != (w.InnerOffset == 0) {
			t.Errorf("%s: kept as a record %v", name, got)
		}
		for i := range w.SHA256 {
			w.SHA256[i] = 1
		}
		w.SetEnd(map[string]int64{"whole": 50, "inner": 50, "last": 90}[name])
		if e.NumChunks() != 1 || e.Chunk(0) != w {
			t.Errorf("%s: %d chunks, first %+v, want %+v", name, e.NumChunks(), e.Chunk(0), w)
		}
		if d, ok := ix.FileDigest(e); !ok || d != digest {
			t.Errorf("%s: file digest %s, %v", name, d, ok)
		}
	}
}

// Child finds a directory's entry by its base name, at the root and
// below, beside siblings whose names share its start.
func TestChild(t *testing.T) {
	ix, err := buildEntries(reg("a", 10), reg("a.b", 20), reg("d/a", 30), reg("d/a.b", 40), reg("d/e/f", 50), reg("d-x", 60))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ dir, base, want string }{
		{".", "a", "a"}, {".", "a.b", "a.b"}, {".", "d", "d"}, {".", "d-x", "d-x"},
		{"d", "a", "d/a"}, {"d", "a.b", "d/a.b"}, {"d", "e", "d/e"}, {"d/e", "f", "d/e/f"},
		{".", "b", ""}, {"d", "f", ""}, {"d", "d", ""}, {"d/e", "a", ""},
	} {
		dir, _ := ix.Lookup(tc.dir)
		got, ok := dir.Child(tc.base)
		switch {
		case ok != (tc.want != ""):
			t.Errorf("%s: child %q found %v, want %q", tc.dir, tc.base, ok, tc.want)
		case ok && got.Name != tc.want:
			t.Errorf("%s: child %q is %q, want %q", tc.dir, tc.base, got.Name, tc.want)
		}
	}
}
