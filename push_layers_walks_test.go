package blobber_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// A split push with a cache fingerprints its groups in the check's walk
// and again in their builds' walks, as a push of one layer fingerprints
// its tree: the tree is walked once to check it and once more, a group at
// a time, to build it, not twice more per group to fingerprint it before
// and after its build. The records it leaves are keyed as a walk of each
// group's own subtree names them, and the next push of the same tree
// reuses every layer.
func TestPushLayersFingerprintsInTheWalksItDoes(t *testing.T) {
	t.Cleanup(blobber.SetSplitLimits(64<<10, 8<<10, 32<<10, 128<<10))
	t.Run("flat", func(t *testing.T) { testFingerprintsInTheWalks(t, func(dir string) { writeSplitTree(t, dir, 3) }) })
	// Groups that begin deep in directories that earlier groups began.
	t.Run("nested", func(t *testing.T) { testFingerprintsInTheWalks(t, writeNestedTree) })
}

func writeNestedTree(dir string) {
	files := map[string]string{}
	for i := range 120 {
		files[fmt.Sprintf("a/b%d/c%d/f%03d", i%3, i%5, i)] = strings.Repeat(string(rune('a'+i%26)), 1500+i*37)
	}
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			panic(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			panic(err)
		}
	}
}

func testFingerprintsInTheWalks(t *testing.T, write func(dir string)) {
	reg := registrytest.Start(t)
	dir := t.TempDir()
	write(dir)
	cacheDir := t.TempDir()
	c := newClient(t, blobber.WithCache(cacheDir))
	src := &walkCountingFS{FS: os.DirFS(dir)}
	ref := reg.Host() + "/walks/layers"
	_, err := c.Push(context.Background(), ref+":v1", src, blobber.WithLayers(blobber.LayersAuto))
	testtree.Must(t, err)
	layers := len(layersOf(t, c, ref+":v1"))
	if layers < 4 {
		t.Fatalf("%d layers, want several", layers)
	}
	if n := src.walks.Load(); n != int32(1+layers) {
		t.Errorf("a split push of %d layers walked the tree %d times, want %d (the check, and each layer's build)", layers, n, 1+layers)
	}

	fps, err := blobber.LayerFingerprints(os.DirFS(dir))
	testtree.Must(t, err)
	if len(fps) != layers {
		t.Fatalf("%d fingerprints for %d layers", len(fps), layers)
	}
	for i, fp := range fps {
		sum := sha256.Sum256([]byte(fp))
		if _, err := os.Stat(filepath.Join(cacheDir, "trees", "layers", hex.EncodeToString(sum[:])+".json")); err != nil {
			t.Errorf("layer %d: no record under its subtree's fingerprint: %v", i, err)
		}
	}
	_, err = c.Push(context.Background(), ref+":v2", os.DirFS(dir), blobber.WithLayers(blobber.LayersAuto))
	testtree.Must(t, err)
	if reused := blobber.ReusedLayers(c); reused != int64(layers) {
		t.Errorf("the second push of the same tree reused %d layers of %d", reused, layers)
	}
}
