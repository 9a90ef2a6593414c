package toc

import (
	"bytes"
	"context"
	"testing"

	digest "github.com/opencontainers/go-digest"

	"github.com/blobber-dev/blobber/internal/compression"
)

// The index gives every regular file's digest as the TOC records it: a
// file of several chunks keeps the TOC's whole-file digest, a file of one
// chunk its chunk's, an empty file the digest of nothing; other entries
// have none.
func TestFileDigest(t *testing.T) {
	for _, c := range []compression.Compression{compression.Gzip, compression.Zstd} {
		t.Run(string(c), func(t *testing.T) {
			blob, res := buildBlob(t, c, 3000)
			ix, err := Read(context.Background(), bytes.NewReader(blob), int64(len(blob)), c, res.TOCDigest, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range map[string]digest.Digest{
				"dir/b.bin": digest.FromBytes(bytes.Repeat([]byte("0123456789"), 1000)), // 4 chunks
				"a.txt":     digest.FromBytes([]byte("alpha\n")),
				"dir/empty": digest.FromBytes(nil),
			} {
				e, _ := ix.Lookup(name)
				if got, ok := ix.FileDigest(e); !ok || got != want {
					t.Errorf("%s: %s, %v; want %s", name, got, ok, want)
				}
			}
			for _, name := range []string{"dir", "ln"} {
				e, _ := ix.Lookup(name)
				if got, ok := ix.FileDigest(e); ok {
					t.Errorf("%s (%s) has digest %s", name, e.Type, got)
				}
			}
		})
	}
}
