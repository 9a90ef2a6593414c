package toc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/containerd/stargz-snapshotter/estargz"
	digest "github.com/opencontainers/go-digest"

	"github.com/blobber-dev/blobber/internal/compression"
	ta "github.com/blobber-dev/blobber/internal/testartifact"
)

// oneFileInChunks is a gzip blob whose TOC splits one file into n chunk
// entries of one byte, all in the file's one member (they are never read).
func oneFileInChunks(t *testing.T, n int) ([]byte, digest.Digest) {
	t.Helper()
	blob, _, _, err := ta.EStargz(ta.Tar(ta.File("a", "x", 0o644)))
	if err != nil {
		t.Fatal(err)
	}
	sum := digest.FromString("x").String()
	blob, d, err := ta.RewriteTOC(blob, func(toc *estargz.JTOC) {
		a := ta.Find(toc, "a")
		a.Size, a.ChunkSize, a.ChunkDigest = int64(n), 1, sum
		for i := 1; i < n; i++ {
			toc.Entries = append(toc.Entries, &estargz.TOCEntry{Name: "a", Type: "chunk", Offset: a.Offset, ChunkOffset: int64(i), ChunkSize: 1, ChunkDigest: sum})
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return blob, d
}

// Chunk entries count against the entry limit: one file in many chunks
// is refused as many files are, before the chunks are all held.
func TestChunkEntriesCountAgainstTheEntryLimit(t *testing.T) {
	const chunks = 100_000
	blob, d := oneFileInChunks(t, chunks)
	read := func(l Limits) (*Index, error) {
		return Read(context.Background(), bytes.NewReader(blob), int64(len(blob)), compression.Gzip, d, l)
	}
	// The TOC limit is set high: only the entry limit is tried here.
	if _, err := read(Limits{MaxEntries: chunks + 1, MaxTOCBytes: 1 << 30}); err != nil {
		t.Fatalf("the artifact is otherwise sound: %v", err)
	}
	var err error
	n := allocated(func() { _, err = read(Limits{MaxEntries: chunks / 10, MaxTOCBytes: 1 << 30}) })
	if !errors.Is(err, ErrLimit) {
		t.Fatalf("%d chunk entries against a limit of %d entries: %v", chunks, chunks/10, err)
	}
	if n > 16<<20 {
		t.Errorf("refusing them allocated %d MiB", n>>20)
	}
}

// longNames is a TOC of n empty files whose names are about 4 KB each
// (16 levels of 255-byte names, the longest components there are).
func longNames(n int) *estargz.JTOC {
	dir := strings.Repeat(strings.Repeat("x", 255)+"/", 15)
	toc := &estargz.JTOC{Version: 1}
	for i := range n {
		toc.Entries = append(toc.Entries, &estargz.TOCEntry{Name: fmt.Sprintf("%sf%06d", dir, i), Type: "reg", Mode: 0o644})
	}
	return toc
}

// A TOC larger than the limit is refused from the size it declares (the
// tar header of gzip's TOC member, zstd:chunked's footer), before any of
// it is decoded; by default the limit follows the entry limit.
func TestTOCSizeLimitRefusesBeforeDecoding(t *testing.T) {
	for _, c := range []struct {
		name   string
		n      int
		limits Limits
		ok     bool
	}{
		{"under an explicit limit", 200, Limits{MaxEntries: 1000, MaxTOCBytes: 4 << 20}, true},
		{"over an explicit limit", 4000, Limits{MaxTOCBytes: 4 << 20}, false},
		{"over the default for the entry limit", 200, Limits{MaxEntries: 1000}, false},
	} {
		for _, comp := range []compression.Compression{compression.Gzip, compression.Zstd} {
			t.Run(c.name+"/"+string(comp), func(t *testing.T) {
				toc := longNames(c.n)
				var blob []byte
				var d digest.Digest
				var err error
				if comp == compression.Zstd {
					blob, d, err = ta.ZstdWithTOC(nil, toc)
				} else {
					var raw []byte
					if raw, err = json.Marshal(toc); err == nil {
						blob, d, _, err = ta.NewBuilder().FinishRaw(raw)
					}
				}
				if err != nil {
					t.Fatal(err)
				}
				var readErr error
				n := allocated(func() {
					_, readErr = Read(context.Background(), bytes.NewReader(blob), int64(len(blob)), comp, d, c.limits)
				})
				if c.ok {
					if readErr != nil {
						t.Fatal(readErr)
					}
					return
				}
				if !errors.Is(readErr, ErrLimit) {
					t.Fatalf("got %v, want ErrLimit", readErr)
				}
				if n > 2<<20 {
					t.Errorf("refusing the TOC allocated %d KiB", n>>10)
				}
			})
		}
	}
}

// The default TOC limit follows the entry limit, up to a cap far below
// what a TOC of long names would otherwise make a reader hold.
func TestDefaultTOCLimit(t *testing.T) {
	for _, c := range []struct {
		limits Limits
		want   int64
	}{
		{Limits{}, DefaultMaxTOCBytes},
		{Limits{MaxEntries: 1000}, 1000 * TOCBytesPerEntry},
		{Limits{MaxEntries: 10_000_000}, DefaultMaxTOCBytes},
		{Limits{MaxEntries: 10_000_000, MaxTOCBytes: 1 << 30}, 1 << 30},
	} {
		if got := c.limits.orDefault().MaxTOCBytes; got != c.want {
			t.Errorf("%+v: TOC limit %d, want %d", c.limits, got, c.want)
		}
	}
	if DefaultMaxTOCBytes > 128<<20 {
		t.Errorf("the default TOC limit is %d MiB", DefaultMaxTOCBytes>>20)
	}
}
