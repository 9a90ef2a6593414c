package blobber

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blobber-dev/blobber/internal/push"
	"github.com/blobber-dev/blobber/internal/registrytest"
)

// Open returns without waiting for the cache's records of the artifact
// (the repository that holds its blobs, its tree's shape), files whose
// creation a pull need not wait for; Close waits for them.
func TestOpenDoesNotWaitForTheCacheRecords(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	ref := reg.Host() + "/remember/tree:v1"
	pusher, err := NewClient(WithCache(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pusher.Push(ctx, ref, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(WithCache(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	opened := make(chan struct{})
	testHookRemember = func() {
		select {
		case <-opened:
		case <-time.After(30 * time.Second): // an Open that records first never returns
			t.Error("Open waited for the cache's records")
		}
	}
	defer func() { testHookRemember = nil }()
	img, err := c.Open(ctx, ref)
	close(opened)
	if err != nil {
		t.Fatal(err)
	}
	layer := img.art.layers[0].desc.Digest
	if err := img.Close(); err != nil {
		t.Fatal(err)
	}
	if repos := c.cache.Sources(layer); !slices.ContainsFunc(repos, func(r string) bool { return strings.HasSuffix(r, "remember/tree") }) {
		t.Errorf("after Close, the cache knows the layer in %v, want remember/tree", repos)
	}
	if !c.cache.HasShape(push.IndexShape(img.index)) {
		t.Error("after Close, the cache does not know the tree's shape")
	}
}
