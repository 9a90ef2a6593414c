package toc

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/blobber-dev/blobber/internal/compression"
)

// A blob's tail, taken with Tail and read with FromTail, gives the index
// Read gives from the blob itself; a tail that does not start where its
// footer puts the TOC, or whose TOC is not the one named, is refused.
func TestFromTail(t *testing.T) {
	for _, c := range []compression.Compression{compression.Gzip, compression.Zstd} {
		t.Run(string(c), func(t *testing.T) {
			blob, res := buildBlob(t, c, 3000)
			size := int64(len(blob))
			want, err := Read(context.Background(), bytes.NewReader(blob), size, c, res.TOCDigest, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			tail, err := Tail(bytes.NewReader(blob), size, c)
			if err != nil {
				t.Fatal(err)
			}
			got, err := FromTail(tail, size, c, res.TOCDigest, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if got.PayloadEnd != want.PayloadEnd || got.BlobSize != want.BlobSize || got.Files != want.Files || got.TotalBytes != want.TotalBytes {
				t.Fatalf("from the tail %+v, from the blob %+v", got, want)
			}
			e, _ := got.Lookup("dir/b.bin")
			w, _ := want.Lookup("dir/b.bin")
			if e.NumChunks() != w.NumChunks() || e.Chunk(e.NumChunks()-1) != w.Chunk(w.NumChunks()-1) {
				t.Fatalf("last chunk %+v, want %+v", e.Chunk(e.NumChunks()-1), w.Chunk(w.NumChunks()-1))
			}
			if _, err := FromTail(blob[len(blob)-len(tail)-1:], size, c, res.TOCDigest, Limits{}); !errors.Is(err, ErrNotEStargz) {
				t.Errorf("a tail one byte longer: %v", err)
			}
			if _, err := FromTail(tail, size+1, c, res.TOCDigest, Limits{}); !errors.Is(err, ErrNotEStargz) {
				t.Errorf("a tail of a larger blob: %v", err)
			}
			other, otherRes := buildBlob(t, c, 2000)
			otherTail, err := Tail(bytes.NewReader(other), int64(len(other)), c)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := FromTail(otherTail, int64(len(other)), c, res.TOCDigest, Limits{}); !errors.Is(err, ErrDigestMismatch) {
				t.Errorf("another blob's TOC (%s) for %s: %v", otherRes.TOCDigest, res.TOCDigest, err)
			}
		})
	}
}
