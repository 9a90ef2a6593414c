package blobber_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

func sampleFiles() map[string]string {
	return map[string]string{
		"README.md":           "# hello\n",
		"bin/tool":            "#!/bin/sh\necho tool\n",
		"data/a.txt":          strings.Repeat("a", 10000),
		"data/nested/b.txt":   "bbb",
		".config/dotfile":     "dot",
		"empty/":              "",
		"link-to-readme":      "-> README.md",
		"data/link-to-parent": "-> ../bin/tool",
		"zero":                "",
	}
}

func newTree(t *testing.T) string {
	dir := t.TempDir()
	testtree.Write(t, dir, sampleFiles())
	testtree.Must(t, os.Chmod(filepath.Join(dir, "bin/tool"), 0o755))
	return dir
}

func newClient(t *testing.T, opts ...blobber.Option) *blobber.Client {
	t.Helper()
	c, err := blobber.NewClient(opts...)
	testtree.Must(t, err)
	return c
}

func TestPushPullRoundTrip(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	src := newTree(t)
	cases := map[string]struct {
		ref  string
		opts []blobber.Option
	}{
		"registry":   {ref: reg.Host() + "/test/files:v1"},
		"oci-layout": {ref: filepath.Join(t.TempDir(), "layout") + ":v1", opts: []blobber.Option{blobber.WithOCILayout()}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := newClient(t, tc.opts...)
			desc, err := c.Push(ctx, tc.ref, os.DirFS(src))
			testtree.Must(t, err)
			again, err := c.Push(ctx, tc.ref, os.DirFS(src))
			testtree.Must(t, err)
			if again.Digest != desc.Digest {
				t.Fatalf("pushing the same tree twice gave %s then %s", desc.Digest, again.Digest)
			}
			dst := filepath.Join(t.TempDir(), "out")
			got, err := c.Pull(ctx, tc.ref, dst)
			testtree.Must(t, err)
			if got.Digest != desc.Digest {
				t.Fatalf("pulled %s, pushed %s", got.Digest, desc.Digest)
			}
			testtree.Equal(t, src, dst)
		})
	}
}

func TestZstdRoundTrip(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	src := newTree(t)
	c := newClient(t)
	ref := reg.Host() + "/test/zstd:v1"
	_, err := c.Push(ctx, ref, os.DirFS(src), blobber.WithCompression("zstd"))
	testtree.Must(t, err)
	dst := filepath.Join(t.TempDir(), "out")
	_, err = c.Pull(ctx, ref, dst)
	testtree.Must(t, err)
	testtree.Equal(t, src, dst)
}

func TestImageIsAnFS(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	c := newClient(t)
	ref := reg.Host() + "/test/fs:v1"
	_, err := c.Push(ctx, ref, os.DirFS(newTree(t)), blobber.WithChunkSize(4096))
	testtree.Must(t, err)
	img, err := c.Open(ctx, ref)
	testtree.Must(t, err)
	defer img.Close()
	if err := fstest.TestFS(img, "README.md", "bin/tool", "data/a.txt", "data/nested/b.txt", ".config/dotfile", "empty", "link-to-readme"); err != nil {
		t.Fatal(err)
	}
	data, err := fs.ReadFile(img, "data/a.txt")
	testtree.Must(t, err)
	if string(data) != strings.Repeat("a", 10000) {
		t.Fatal("data/a.txt differs")
	}
	if _, err := img.Open("nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestSelectiveReads(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	src := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	big := make([]byte, 64<<20)
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	testtree.Must(t, os.WriteFile(filepath.Join(src, "big.bin"), big, 0o644))
	small := bytes.Repeat([]byte("0123456789abcdef"), 256) // 4 KiB
	testtree.Must(t, os.WriteFile(filepath.Join(src, "small.txt"), small, 0o644))

	c := newClient(t)
	ref := proxy.Host() + "/test/big:v1"
	_, err := c.Push(ctx, ref, os.DirFS(src))
	testtree.Must(t, err)

	proxy.Reset()
	img, err := c.Open(ctx, ref)
	testtree.Must(t, err)
	entries, err := img.ReadDir(".")
	testtree.Must(t, err)
	if len(entries) != 2 {
		t.Fatalf("ls: %d entries", len(entries))
	}
	if s := proxy.Stats(); s.BlobBytes > 1<<20 {
		t.Fatalf("ls read %d bytes of blob, want under 1 MiB", s.BlobBytes)
	}
	proxy.Reset()
	var out bytes.Buffer
	_, err = img.WriteFileTo(&out, "small.txt")
	testtree.Must(t, err)
	if !bytes.Equal(out.Bytes(), small) {
		t.Fatal("small.txt differs")
	}
	if s := proxy.Stats(); s.BlobBytes > 256<<10 {
		t.Fatalf("cat of 4 KiB read %d bytes of blob, want under 256 KiB", s.BlobBytes)
	}
	img.Close()
}

func TestErrors(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	c := newClient(t)
	_, err := c.Open(ctx, reg.Host()+"/test/none:v1")
	if !errors.Is(err, blobber.ErrNotFound) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("unknown repository: %v", err)
	}
	if _, err := c.Open(ctx, "Bad Ref!!"); !errors.Is(err, blobber.ErrInvalidReference) {
		t.Fatalf("bad reference: %v", err)
	}
	ref := reg.Host() + "/test/files:v1"
	_, err = c.Push(ctx, ref, os.DirFS(newTree(t)))
	testtree.Must(t, err)
	if _, err := c.Open(ctx, reg.Host()+"/test/files:v2"); !errors.Is(err, blobber.ErrNotFound) {
		t.Fatalf("unknown tag: %v", err)
	}
	// A pull never overwrites without being asked, and touches nothing.
	dst := t.TempDir()
	testtree.Must(t, os.WriteFile(filepath.Join(dst, "README.md"), []byte("mine"), 0o644))
	if _, err := c.Pull(ctx, ref, dst); !errors.Is(err, blobber.ErrExists) {
		t.Fatalf("pull over a file: %v", err)
	}
	if data, _ := os.ReadFile(filepath.Join(dst, "README.md")); string(data) != "mine" {
		t.Fatal("existing file changed")
	}
	if entries, _ := os.ReadDir(dst); len(entries) != 1 {
		t.Fatalf("failed pull left %d entries", len(entries))
	}
	_, err = c.Pull(ctx, ref, dst, blobber.WithOverwrite())
	testtree.Must(t, err)
	if data, _ := os.ReadFile(filepath.Join(dst, "README.md")); string(data) != "# hello\n" {
		t.Fatal("overwrite did not replace the file")
	}
}

// A file of many more chunks than the read-ahead window ever holds comes
// back whole through every way of reading it. (The window used to double
// without a bound and overflowed after 64 chunks, which ended the stream
// early: cat of a 1.25 GiB file gave its first 256 MiB and exit status 0.)
func TestReadFileOfManyChunks(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	src := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	const chunk = 4096
	content := make([]byte, 200*chunk+123) // 201 chunks
	for i := range content {
		content[i] = byte(rng.Uint32())
	}
	testtree.Must(t, os.WriteFile(filepath.Join(src, "many.bin"), content, 0o644))
	c := newClient(t, blobber.WithConcurrency(3))
	ref := reg.Host() + "/test/manychunks:v1"
	_, err := c.Push(ctx, ref, os.DirFS(src), blobber.WithChunkSize(chunk))
	testtree.Must(t, err)
	img, err := c.Open(ctx, ref)
	testtree.Must(t, err)
	defer img.Close()

	var out bytes.Buffer
	n, err := img.WriteFileTo(&out, "many.bin")
	testtree.Must(t, err)
	if n != int64(len(content)) || !bytes.Equal(out.Bytes(), content) {
		t.Fatalf("WriteFileTo: %d of %d bytes, equal %v", n, len(content), bytes.Equal(out.Bytes(), content))
	}
	read, err := fs.ReadFile(img, "many.bin")
	testtree.Must(t, err)
	if !bytes.Equal(read, content) {
		t.Fatalf("ReadFile: %d of %d bytes", len(read), len(content))
	}
	f, err := img.Open("many.bin")
	testtree.Must(t, err)
	defer f.Close()
	small := make([]byte, 1000) // reads smaller than a chunk, across chunk ends
	var got []byte
	for {
		k, err := f.Read(small)
		got = append(got, small[:k]...)
		if err == io.EOF {
			break
		}
		testtree.Must(t, err)
	}
	if !bytes.Equal(got, content) {
		t.Fatalf("Read in small pieces: %d of %d bytes", len(got), len(content))
	}
}
