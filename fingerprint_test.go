package blobber_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// An unchanged tree pushed again is not rebuilt: its earlier manifest is
// tagged again, and no layer byte is uploaded. Any change is seen.
func TestUnchangedTreeIsNotRebuilt(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	c := newClient(t, blobber.WithCache(t.TempDir()))
	src := newTree(t)
	ref := proxy.Host() + "/reuse/tree:v1"
	first, err := c.Push(ctx, ref, os.DirFS(src))
	testtree.Must(t, err)

	proxy.Reset()
	before := blobber.ClientCounts(c)
	again, err := c.Push(ctx, proxy.Host()+"/reuse/tree:v2", os.DirFS(src))
	testtree.Must(t, err)
	if n := blobber.ClientCounts(c); again.Digest != first.Digest || n.ReusedPushes != before.ReusedPushes+1 || n.LayersBuilt != before.LayersBuilt {
		t.Fatalf("unchanged tree was rebuilt (%s vs %s): %d reused, %d built", again.Digest, first.Digest,
			n.ReusedPushes-before.ReusedPushes, n.LayersBuilt-before.LayersBuilt)
	}
	if s := proxy.Stats(); s.UploadBytes != 0 {
		t.Fatalf("re-push uploaded %d bytes", s.UploadBytes)
	}

	// Same size, same modification time, new content: still seen.
	p := filepath.Join(src, "data/nested/b.txt")
	info, err := os.Stat(p)
	testtree.Must(t, err)
	testtree.Must(t, os.WriteFile(p, []byte("BBB"), 0o644))
	testtree.Must(t, os.Chtimes(p, info.ModTime(), info.ModTime()))
	before = blobber.ClientCounts(c)
	changed, err := c.Push(ctx, proxy.Host()+"/reuse/tree:v3", os.DirFS(src))
	testtree.Must(t, err)
	if n := blobber.ClientCounts(c); changed.Digest == first.Digest || n.ReusedPushes != before.ReusedPushes || n.LayersBuilt != before.LayersBuilt+1 {
		t.Fatal("a changed tree reused the old layer")
	}
	img, err := c.Open(ctx, proxy.Host()+"/reuse/tree:v3")
	testtree.Must(t, err)
	defer img.Close()
	if data, _ := img.ReadFile("data/nested/b.txt"); string(data) != "BBB" {
		t.Fatalf("b.txt = %q", data)
	}
}
