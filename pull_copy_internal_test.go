package blobber

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// A full pull through the cache keeps, as the layer's complete entry, the
// copy of the bytes it hashed, and only once the layer verified: a
// registry that serves a wrong byte of the payload fails the pull, which
// leaves no file in the directory, and nothing of the layer in the cache
// but what verified before (its table of contents), no copy either. Once
// the registry serves the right bytes, the layer is kept.
func TestCorruptPayloadThroughTheCacheKeepsNothing(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	files := map[string]string{}
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range 40 {
		data := make([]byte, 8<<10) // incompressible: the layer is well past the tail Open reads
		for j := range data {
			data[j] = byte(rnd.Uint32())
		}
		files[fmt.Sprintf("d%d/f%02d.bin", i%4, i)] = string(data)
	}
	src := t.TempDir()
	testtree.Write(t, src, files)
	ref := proxy.Host() + "/copy/corrupt:v1"
	pusher, err := NewClient(WithCache(t.TempDir()))
	testtree.Must(t, err)
	_, err = pusher.Push(ctx, ref, os.DirFS(src))
	testtree.Must(t, err)

	cacheDir := t.TempDir()
	c, err := NewClient(WithCache(cacheDir))
	testtree.Must(t, err)
	img, err := c.Open(ctx, ref)
	testtree.Must(t, err)
	layer := filepath.Join(cacheDir, "blobs", "sha256", img.art.layers[0].desc.Digest.Encoded())
	testtree.Must(t, img.Close())

	proxy.SetFaults(func(r *http.Request) *registrytest.Fault {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") && (r.Header.Get("Range") == "" || strings.HasPrefix(r.Header.Get("Range"), "bytes=0-")) {
			return &registrytest.Fault{FlipFirstByte: true}
		}
		return nil
	})
	out := filepath.Join(t.TempDir(), "out")
	if _, err := c.Pull(ctx, ref, out); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("pull of a corrupted payload: %v, want %v", err, ErrDigestMismatch)
	}
	if des, err := os.ReadDir(out); err == nil && len(des) > 0 {
		t.Errorf("the failed pull left %d entries in its directory", len(des))
	}
	if _, err := os.Stat(layer); err == nil {
		t.Error("the failed pull left the layer complete in the cache")
	}
	assertNoCacheTemps(t, cacheDir)

	proxy.SetFaults(nil)
	if _, err := c.Pull(ctx, ref, out); err != nil {
		t.Fatal(err)
	}
	testtree.Equal(t, src, out)
	if fi, err := os.Stat(layer); err != nil || fi.Size() != img.art.layers[0].desc.Size {
		t.Errorf("after a pull that verified, the cache's layer: %v, %v", fi, err)
	}
	assertNoCacheTemps(t, cacheDir)
}

// assertNoCacheTemps fails if the cache directory holds temporary files.
func assertNoCacheTemps(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".tmp-") {
			t.Errorf("temporary file left in the cache: %s", p)
		}
		return nil
	})
}
