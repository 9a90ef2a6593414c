package layer

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/containerd/stargz-snapshotter/estargz"
	"github.com/containerd/stargz-snapshotter/estargz/zstdchunked"
	digest "github.com/opencontainers/go-digest"

	"github.com/blobber-dev/blobber/internal/compression"
)

func sampleTree() fstest.MapFS {
	big := bytes.Repeat([]byte("0123456789abcdef"), 5000) // 80,000 bytes: several chunks
	return fstest.MapFS{
		"hello.txt":        {Data: []byte("hello\n"), Mode: 0o644},
		"bin/run":          {Data: []byte("#!/bin/sh\necho hi\n"), Mode: 0o755},
		"empty":            {Data: nil, Mode: 0o600},
		"big.bin":          {Data: big, Mode: 0o644},
		".hidden/dotfile":  {Data: []byte("x"), Mode: 0o644},
		"emptydir":         {Mode: fs.ModeDir | 0o750},
		"link":             {Data: []byte("hello.txt"), Mode: fs.ModeSymlink | 0o777},
		"deep/a/b/c/d.txt": {Data: []byte(strings.Repeat("d", 3000)), Mode: 0o644},
	}
}

func build(t *testing.T, fsys fs.FS, opts Options) ([]byte, *Result) {
	t.Helper()
	var buf bytes.Buffer
	res, err := Build(context.Background(), fsys, &buf, opts)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return buf.Bytes(), res
}

func TestBuildIsValidEStargz(t *testing.T) {
	for _, comp := range []compression.Compression{compression.Gzip, compression.Zstd} {
		t.Run(string(comp), func(t *testing.T) {
			blob, res := build(t, sampleTree(), Options{Compression: comp, ChunkSize: 16 << 10, Workers: 3})
			if got := digest.FromBytes(blob); got != res.Digest || int64(len(blob)) != res.Size {
				t.Fatalf("result says %s/%d, blob is %s/%d", res.Digest, res.Size, got, len(blob))
			}
			var decomp []estargz.OpenOption
			if comp == compression.Zstd {
				decomp = append(decomp, estargz.WithDecompressors(new(zstdchunked.Decompressor)))
			}
			r, err := estargz.Open(io.NewSectionReader(bytes.NewReader(blob), 0, int64(len(blob))), decomp...)
			if err != nil {
				t.Fatalf("estargz.Open: %v", err)
			}
			if _, err := r.VerifyTOC(res.TOCDigest); err != nil {
				t.Fatalf("VerifyTOC: %v", err)
			}
			e, ok := r.Lookup("big.bin")
			if !ok || e.Size != 80000 {
				t.Fatalf("big.bin: %+v %v", e, ok)
			}
			sr, err := r.OpenFile("deep/a/b/c/d.txt")
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(io.NewSectionReader(sr, 0, 3000))
			if string(got) != strings.Repeat("d", 3000) {
				t.Fatalf("d.txt content wrong")
			}
		})
	}
}

func TestBuildIsPlainTarGz(t *testing.T) {
	blob, res := build(t, sampleTree(), Options{ChunkSize: 16 << 10})
	zr, err := gzip.NewReader(bytes.NewReader(blob))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if d := digest.FromBytes(raw); d != res.DiffID || int64(len(raw)) != res.UncompressedSize {
		t.Fatalf("diffID %s/%d, want %s/%d", res.DiffID, res.UncompressedSize, d, len(raw))
	}
	tr := tar.NewReader(bytes.NewReader(raw))
	names := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		names[h.Name] = string(data)
	}
	if names["hello.txt"] != "hello\n" || names["bin/run"] != "#!/bin/sh\necho hi\n" || len(names["big.bin"]) != 80000 {
		t.Fatalf("unexpected tar contents: %v", keys(names))
	}
	if _, ok := names["emptydir/"]; !ok {
		t.Fatalf("empty directory missing: %v", keys(names))
	}
	// The tar ends before the TOC member (see plain_tar_test.go).
	if _, ok := names[estargz.TOCTarName]; ok {
		t.Fatalf("a plain tar reader sees the TOC entry")
	}
}

func TestBuildIsReproducible(t *testing.T) {
	_, a := build(t, sampleTree(), Options{Workers: 1})
	_, b := build(t, sampleTree(), Options{Workers: 4, ChunkSize: DefaultChunkSize})
	if a.Digest != b.Digest || a.TOCDigest != b.TOCDigest {
		t.Fatalf("two builds differ: %s vs %s", a.Digest, b.Digest)
	}
	tree := sampleTree()
	tree["hello.txt"].Data = []byte("changed\n")
	_, c := build(t, tree, Options{})
	if c.Digest == a.Digest {
		t.Fatal("a changed tree gave the same digest")
	}
}

func TestBuildManySmallFilesInOrder(t *testing.T) {
	tree := fstest.MapFS{}
	for i := range 3000 {
		tree[strings.Repeat("d", 1+i%7)+"/"+digest.FromBytes([]byte{byte(i), byte(i >> 8)}).Encoded()[:12]] = &fstest.MapFile{Data: []byte(strings.Repeat("x", i%900)), Mode: 0o644}
	}
	blob, res := build(t, tree, Options{Workers: 4})
	r, err := estargz.Open(io.NewSectionReader(bytes.NewReader(blob), 0, int64(len(blob))))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.VerifyTOC(res.TOCDigest); err != nil {
		t.Fatalf("VerifyTOC: %v", err)
	}
	if res.Entries != 3000+7 {
		t.Fatalf("entries = %d", res.Entries)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
