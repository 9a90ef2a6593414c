package toc

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/blobber-dev/blobber/internal/compression"
	"github.com/blobber-dev/blobber/internal/layer"
	digest "github.com/opencontainers/go-digest"
)

func buildBlob(t *testing.T, comp compression.Compression, chunk int) ([]byte, *layer.Result) {
	t.Helper()
	tree := fstest.MapFS{
		"a.txt":     {Data: []byte("alpha\n"), Mode: 0o644},
		"dir/b.bin": {Data: bytes.Repeat([]byte("0123456789"), 1000), Mode: 0o640},
		"dir/empty": {Mode: 0o600},
		"ln":        {Data: []byte("a.txt"), Mode: 0o777 | 1<<27},
	}
	var buf bytes.Buffer
	res, err := layer.Build(context.Background(), tree, &buf, layer.Options{Compression: comp, ChunkSize: chunk})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), res
}

func TestReadAndFetch(t *testing.T) {
	for _, c := range []compression.Compression{compression.Gzip, compression.Zstd} {
		t.Run(string(c), func(t *testing.T) {
			blob, res := buildBlob(t, c, 3000)
			ix, err := Read(context.Background(), bytes.NewReader(blob), int64(len(blob)), c, res.TOCDigest, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			e, ok := ix.Lookup("dir/b.bin")
			if !ok || e.Size != 10000 || e.NumChunks() != 4 {
				t.Fatalf("dir/b.bin = %+v", e)
			}
			var got []byte
			for _, ch := range e.Chunks() {
				data, err := ix.Fetch(bytes.NewReader(blob), ch, nil)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, data...)
			}
			if !bytes.Equal(got, bytes.Repeat([]byte("0123456789"), 1000)) {
				t.Fatal("content differs")
			}
			var names []string
			ix.Walk(func(e *Entry) error { names = append(names, e.Name); return nil })
			if strings.Join(names, ",") != "a.txt,dir,dir/b.bin,dir/empty,ln" {
				t.Fatalf("walk order %v", names)
			}
			if ln, _ := ix.Lookup("ln"); ln.Type != TypeSymlink || ln.LinkName() != "a.txt" {
				t.Fatalf("ln = %+v", ln)
			}
		})
	}
}

func TestReadRejects(t *testing.T) {
	blob, res := buildBlob(t, compression.Gzip, 0)
	size := int64(len(blob))
	if _, err := Read(context.Background(), bytes.NewReader(blob), size, compression.Gzip, digest.FromString("other"), Limits{}); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("wrong TOC digest: %v", err)
	}
	if _, err := Read(context.Background(), bytes.NewReader(blob), size, compression.Gzip, res.TOCDigest, Limits{MaxEntries: 2}); !errors.Is(err, ErrLimit) {
		t.Fatalf("entry limit: %v", err)
	}
	if _, err := Read(context.Background(), bytes.NewReader(blob), size, compression.Gzip, res.TOCDigest, Limits{MaxBytes: 100}); !errors.Is(err, ErrLimit) {
		t.Fatalf("size limit: %v", err)
	}
	junk := bytes.Repeat([]byte{0x1f, 0x8b}, 100)
	if _, err := Read(context.Background(), bytes.NewReader(junk), int64(len(junk)), compression.Gzip, res.TOCDigest, Limits{}); !errors.Is(err, ErrNotEStargz) {
		t.Fatalf("junk: %v", err)
	}
	if _, err := Read(context.Background(), bytes.NewReader(junk), int64(len(junk)), compression.Zstd, res.TOCDigest, Limits{}); !errors.Is(err, ErrNotEStargz) {
		t.Fatalf("junk zstd: %v", err)
	}
	ix, err := Read(context.Background(), bytes.NewReader(blob), size, compression.Gzip, res.TOCDigest, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	e, _ := ix.Lookup("dir/b.bin")
	bad := e.Chunk(0)
	bad.SHA256[0] ^= 1
	if _, err := ix.Fetch(bytes.NewReader(blob), bad, nil); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("bad chunk digest: %v", err)
	}
}

func TestCleanName(t *testing.T) {
	for in, want := range map[string]string{"./a/b/": "a/b", "a": "a", "./": ".", "dir/": "dir"} {
		if got, err := CleanName(in); err != nil || got != want {
			t.Errorf("CleanName(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"../x", "/etc/passwd", "a/../../b", "a/./b", "a//b", "a\x00b", "..", "a/.."} {
		if _, err := CleanName(bad); !errors.Is(err, ErrUnsafeName) {
			t.Errorf("CleanName(%q) accepted", bad)
		}
	}
}
