package push

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/blobber-dev/blobber/internal/compression"
	"github.com/blobber-dev/blobber/internal/layer"
	"github.com/blobber-dev/blobber/internal/testtree"
	"github.com/blobber-dev/blobber/internal/toc"
)

// fingerprintOrSkip fingerprints dir, skipping where the OS gives no file
// identity to fingerprint with.
func fingerprintOrSkip(t *testing.T, dir string, build layer.Options) (string, string) {
	t.Helper()
	fp, shapeKey := Fingerprint(os.DirFS(dir), build)
	if fp == "" {
		t.Skip("no change time or inode on this OS: no fingerprint")
	}
	return fp, shapeKey
}

// The fingerprint names the tree's state and the build's options; the
// shape only the files' names and sizes.
func TestFingerprintFollowsStateShapeFollowsNamesAndSizes(t *testing.T) {
	dir := t.TempDir()
	testtree.Write(t, dir, map[string]string{"a.txt": "alpha", "sub/b.txt": "bravo", "sub/link": "-> b.txt"})
	fp, shapeKey := fingerprintOrSkip(t, dir, layer.Options{})
	if again, againShape := fingerprintOrSkip(t, dir, layer.Options{}); again != fp || againShape != shapeKey {
		t.Fatal("the same tree fingerprinted twice gave two answers")
	}
	if zstd, zstdShape := fingerprintOrSkip(t, dir, layer.Options{Compression: compression.Zstd}); zstd == fp || zstdShape != shapeKey {
		t.Errorf("another compression: fingerprint changed %v, shape changed %v; want true, false", zstd != fp, zstdShape != shapeKey)
	}

	// Same size, other bytes: the change time moves, the shape does not.
	testtree.Must(t, os.WriteFile(filepath.Join(dir, "a.txt"), []byte("ALPHA"), 0o644))
	rewritten, rewrittenShape := fingerprintOrSkip(t, dir, layer.Options{})
	if rewritten == fp || rewrittenShape != shapeKey {
		t.Errorf("a file rewritten: fingerprint changed %v, shape changed %v; want true, false", rewritten != fp, rewrittenShape != shapeKey)
	}

	testtree.Must(t, os.WriteFile(filepath.Join(dir, "a.txt"), []byte("longer"), 0o644))
	if _, grown := fingerprintOrSkip(t, dir, layer.Options{}); grown == shapeKey {
		t.Error("a file that changed size kept the tree's shape")
	}
}

// A file system without file identities (not a directory on disk) has no
// fingerprint, so that nothing is reused from a record of it.
func TestFingerprintOfTreeWithoutIdentityIsEmpty(t *testing.T) {
	fsys := fstest.MapFS{"a.txt": {Data: []byte("alpha")}}
	if fp, shapeKey := Fingerprint(fsys, layer.Options{}); fp != "" || shapeKey != "" {
		t.Errorf("Fingerprint(MapFS) = %q, %q; want empty", fp, shapeKey)
	}
}

// buildIndex builds src's layer and reads its TOC back, verified, as a
// reader would.
func buildIndex(t *testing.T, src fs.FS) *toc.Index {
	t.Helper()
	ctx := context.Background()
	var blob bytes.Buffer
	res, err := layer.Build(ctx, src, &blob, layer.Options{})
	testtree.Must(t, err)
	ix, err := toc.Read(ctx, bytes.NewReader(blob.Bytes()), int64(blob.Len()), compression.Gzip, res.TOCDigest, toc.Limits{})
	testtree.Must(t, err)
	return ix
}

// A layer's TOC gives the shape its tree's walk gives: a tree read from a
// registry vouches for a later push of the same files.
func TestIndexShapeIsTheWalkShape(t *testing.T) {
	dir := t.TempDir()
	testtree.Write(t, dir, map[string]string{"z.txt": "last", "a/b/c.bin": "deep", "empty": "", "d/": ""})
	_, shapeKey := fingerprintOrSkip(t, dir, layer.Options{})
	if got := IndexShape(buildIndex(t, os.DirFS(dir))); got != shapeKey {
		t.Errorf("IndexShape = %s; the walk's shape is %s", got, shapeKey)
	}
}

// The reuse check accepts the layer built from the tree and nothing else:
// not a file rewritten with bytes of the same size, nor a file more or
// less, nor another mode.
func TestSameTreeRefusesAnyDifference(t *testing.T) {
	ctx := context.Background()
	files := map[string]string{"a.txt": "alpha", "sub/b.txt": "bravo", "sub/link": "-> b.txt"}
	built := t.TempDir()
	testtree.Write(t, built, files)
	ix := buildIndex(t, os.DirFS(built))
	if err := sameTree(ctx, ix, os.DirFS(built)); err != nil {
		t.Fatalf("the tree the layer was built from: %v", err)
	}

	for name, change := range map[string]func(dir string){
		"same size, other bytes": func(dir string) {
			testtree.Must(t, os.WriteFile(filepath.Join(dir, "a.txt"), []byte("ALPHA"), 0o644))
		},
		"one file more": func(dir string) {
			testtree.Must(t, os.WriteFile(filepath.Join(dir, "sub/c.txt"), nil, 0o644))
		},
		"one file less": func(dir string) { testtree.Must(t, os.Remove(filepath.Join(dir, "sub/b.txt"))) },
		"another mode":  func(dir string) { testtree.Must(t, os.Chmod(filepath.Join(dir, "a.txt"), 0o600)) },
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			testtree.Write(t, dir, files)
			change(dir)
			if err := sameTree(ctx, ix, os.DirFS(dir)); !errors.Is(err, errNotThisTree) {
				t.Errorf("sameTree = %v; want errNotThisTree", err)
			}
		})
	}
}

// Without a cache the policy remembers nothing and reuses nothing.
func TestPolicyWithoutCacheDoesNothing(t *testing.T) {
	p := &Policy{Counts: new(Counters)}
	if _, ok := p.Reuse(context.Background(), nil, nil, fstest.MapFS{}, layer.Options{}, "fp", "v1"); ok {
		t.Error("reused a push without a cache")
	}
	p.RememberPush("fp", "shape", ocispec.Descriptor{}, nil)
	if p.shapeSeen("shape") {
		t.Error("a shape seen without a cache")
	}
	var m *Mounter
	if m.Mount(context.Background(), ocispec.Descriptor{}, nil) {
		t.Error("a nil mounter mounted")
	}
	m.Remember(ocispec.Descriptor{})
}
