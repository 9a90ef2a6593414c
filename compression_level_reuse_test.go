package blobber_test

import (
	"context"
	"os"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/cache"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// A fingerprint record of a push at level 9 that names the same tree's
// layer at level 1 (its TOC lists exactly this tree) is refused by the
// layer's level annotation: the push builds the level 9 layer.
func TestRecordOfAnotherLevelIsRefused(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	cacheDir := t.TempDir()
	c := newClient(t, blobber.WithCache(cacheDir))
	src := compressibleTree(t)
	fast, err := c.Push(ctx, reg.Host()+"/level-record/t:fast", os.DirFS(src), blobber.WithCompressionLevel("1"))
	testtree.Must(t, err)
	small, err := c.Push(ctx, reg.Host()+"/level-record/t:small", os.DirFS(src), blobber.WithCompressionLevel("9"))
	testtree.Must(t, err)

	cc, err := cache.Open(cacheDir)
	testtree.Must(t, err)
	defer cc.Close()
	info, err := cc.Info()
	testtree.Must(t, err)
	for _, e := range info.Entries {
		if e.Kind == cache.KindFingerprint && e.Digest == small.Digest {
			testtree.Must(t, cc.PutFingerprint(e.Key, fast.Digest, fast.MediaType, fast.Size))
		}
	}

	before := blobber.ClientCounts(c)
	again, err := c.Push(ctx, reg.Host()+"/level-record/t:again", os.DirFS(src), blobber.WithCompressionLevel("9"))
	testtree.Must(t, err)
	if n := blobber.ClientCounts(c); again.Digest != small.Digest || n.RefusedRecords != before.RefusedRecords+1 || n.LayersBuilt != before.LayersBuilt+1 {
		t.Fatalf("the level 1 record was not refused: got %s (level 9 is %s), %d refused, %d built",
			again.Digest, small.Digest, n.RefusedRecords-before.RefusedRecords, n.LayersBuilt-before.LayersBuilt)
	}
}
