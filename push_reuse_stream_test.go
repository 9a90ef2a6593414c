package blobber_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// A split push to a new tag uploads each new layer while building it, as
// a push of one layer does: the registry receives the first layer's bytes
// before the build of that layer reads its last file.
func TestPushLayersUploadWhileBuilding(t *testing.T) {
	defer blobber.SetSplitLimits(10<<20, 32<<20, 64<<20, 128<<20)()
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	src := t.TempDir()
	r := rand.New(rand.NewPCG(5, 6))
	for name, size := range map[string]int{"a/first.bin": 9 << 20, "a/last.bin": 1 << 10, "z.bin": 10 << 20} {
		b := make([]byte, size)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		testtree.Must(t, os.MkdirAll(filepath.Dir(filepath.Join(src, name)), 0o755))
		testtree.Must(t, os.WriteFile(filepath.Join(src, name), b, 0o644))
	}
	uploading := func() bool { return proxy.Stats().UploadBytes > 0 }
	c := newClient(t, blobber.WithCache(t.TempDir()))
	ref := proxy.Host() + "/early/layers:v1"
	_, err := c.Push(ctx, ref, gatedFS{FS: os.DirFS(src), gated: "a/last.bin", open: uploading},
		blobber.WithLayers(blobber.LayersAuto), blobber.WithUploadChunkSize(1<<20))
	if errors.Is(err, errGate) {
		t.Fatal("nothing was uploaded before the first layer's build read its last file")
	}
	testtree.Must(t, err)
	if n := len(layersOf(t, c, ref)); n != 2 {
		t.Fatalf("%d layers, want 2", n)
	}
	pullAndCompare(t, ref, src)
}
