package blobber_test

import (
	"context"
	"os"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// A push without WithLayers splits a tree past the threshold, as
// LayersAuto does; LayersOne keeps it one layer.
func TestPushLayersAutoIsTheDefault(t *testing.T) {
	defer blobber.SetSplitLimits(64<<10, 8<<10, 32<<10, 128<<10)()
	reg := registrytest.Start(t)
	ctx := context.Background()
	src := t.TempDir()
	writeSplitTree(t, src, 7)
	c := newClient(t)
	def, err := c.Push(ctx, reg.Host()+"/layers/default:v1", os.DirFS(src))
	testtree.Must(t, err)
	auto, err := c.Push(ctx, reg.Host()+"/layers/default:auto", os.DirFS(src), blobber.WithLayers(blobber.LayersAuto))
	testtree.Must(t, err)
	if def.Digest != auto.Digest {
		t.Fatalf("the default push gave %s, LayersAuto %s", def.Digest, auto.Digest)
	}
	if n := len(layersOf(t, c, reg.Host()+"/layers/default:v1")); n < 2 {
		t.Fatalf("the default push made %d layer(s) of a tree past the threshold", n)
	}
	if n := len(layersOf(t, c, pushOne(t, c, reg.Host()+"/layers/default:one", src))); n != 1 {
		t.Fatalf("LayersOne made %d layers", n)
	}
}

func pushOne(t *testing.T, c *blobber.Client, ref, src string) string {
	t.Helper()
	_, err := c.Push(context.Background(), ref, os.DirFS(src), blobber.WithLayers(blobber.LayersOne))
	testtree.Must(t, err)
	return ref
}
