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

// A pull of a layer larger than the cache's bound writes the tree, every
// byte verified, and leaves the layer to the registry (the cache keeps no
// copy of it: internal/cache TestWholeReadOfBlobOverTheBoundIsNotKept);
// under the bound, the cache keeps the verified layer and the next pull
// fetches nothing.
func TestPullKeepsTheLayerOnlyWithinTheCacheBound(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	src, _, _ := cacheTree(t) // a layer of some 8 MiB
	ref := proxy.Host() + "/cache/bound:v1"
	_, err := newClient(t).Push(ctx, ref, os.DirFS(src))
	testtree.Must(t, err)

	for _, c := range []struct {
		bound int64
		kept  bool
	}{
		{bound: 4 << 20, kept: false},
		{bound: 64 << 20, kept: true},
	} {
		cacheDir := t.TempDir()
		client := newClient(t, blobber.WithCache(cacheDir), blobber.WithCacheMaxSize(c.bound))
		dst := filepath.Join(t.TempDir(), "out")
		_, err := client.Pull(ctx, ref, dst)
		testtree.Must(t, err)
		testtree.Equal(t, src, dst)
		proxy.Reset()
		again := filepath.Join(t.TempDir(), "again")
		_, err = client.Pull(ctx, ref, again)
		testtree.Must(t, err)
		testtree.Equal(t, src, again)
		// Over the bound the layer comes again from the registry (what the
		// cache held before the pull, the table of contents, does not).
		if s := proxy.Stats(); (s.BlobBytes == 0) != c.kept || (!c.kept && s.BlobBytes < 4<<20) {
			t.Errorf("bound %d: the second pull fetched %d blob bytes, want the layer from the cache: %v", c.bound, s.BlobBytes, c.kept)
		}
	}
}
