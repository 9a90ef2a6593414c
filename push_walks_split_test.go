package blobber_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// A push with --layers auto splits the tree in the check's walk: a tree of
// one group then costs what a push of one layer costs, two walks, and is
// that same layer.
func TestPushLayersAutoSplitsInTheCheckWalk(t *testing.T) {
	reg := registrytest.Start(t)
	dir := t.TempDir()
	for i := range 20 {
		name := filepath.Join(dir, fmt.Sprintf("d%d", i%3), fmt.Sprintf("f%02d.txt", i))
		testtree.Must(t, os.MkdirAll(filepath.Dir(name), 0o755))
		testtree.Must(t, os.WriteFile(name, []byte(name), 0o644))
	}
	c := newClient(t)
	one, err := c.Push(context.Background(), reg.Host()+"/walks/split:one", os.DirFS(dir), blobber.WithLayers(blobber.LayersOne))
	testtree.Must(t, err)
	src := &walkCountingFS{FS: os.DirFS(dir)}
	auto, err := c.Push(context.Background(), reg.Host()+"/walks/split:auto", src, blobber.WithLayers(blobber.LayersAuto))
	testtree.Must(t, err)
	if n := src.walks.Load(); n != 2 {
		t.Errorf("a push with --layers auto of a tree of one group walked it %d times, want 2 (check and build)", n)
	}
	if auto.Digest != one.Digest {
		t.Errorf("--layers auto pushed %s, --layers 1 %s: a tree of one group is one layer, the same", auto.Digest, one.Digest)
	}
}
