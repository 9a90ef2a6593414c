package blobber_test

import (
	"context"
	"os"
	"slices"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// A split push for several platforms tags an index whose manifests name
// the same layers, each with a config naming its platform and every
// layer's diffID, and it reads back whole.
func TestPushLayersForSeveralPlatforms(t *testing.T) {
	defer blobber.SetSplitLimits(64<<10, 8<<10, 32<<10, 128<<10)()
	reg := registrytest.Start(t)
	ctx := context.Background()
	src := t.TempDir()
	writeSplitTree(t, src, 7)
	ref := reg.Host() + "/layers/plat:v1"
	platforms := []string{"linux/amd64", "linux/arm64"}
	desc, err := newClient(t).Push(ctx, ref, os.DirFS(src), blobber.WithLayers(blobber.LayersAuto), blobber.WithPlatforms(platforms...))
	testtree.Must(t, err)
	if desc.MediaType != ocispec.MediaTypeImageIndex {
		t.Fatalf("the tag names a %s, want an index", desc.MediaType)
	}
	repo := repository(t, reg.Host(), "layers/plat")
	var index ocispec.Index
	fetchJSON(t, repo, desc, &index)
	var first []ocispec.Descriptor
	for i, m := range index.Manifests {
		var man ocispec.Manifest
		fetchJSON(t, repo, m, &man)
		if len(man.Layers) < 2 {
			t.Fatalf("%s: %d layers, want a split", platforms[i], len(man.Layers))
		}
		if got := configPlatform(t, repo, m); got != platforms[i] {
			t.Errorf("entry %d: config names %s, want %s", i, got, platforms[i])
		}
		var cfg ocispec.Image
		fetchJSON(t, repo, man.Config, &cfg)
		if len(cfg.RootFS.DiffIDs) != len(man.Layers) {
			t.Errorf("%s: %d diffIDs for %d layers", platforms[i], len(cfg.RootFS.DiffIDs), len(man.Layers))
		}
		if first == nil {
			first = man.Layers
		} else if !slices.EqualFunc(first, man.Layers, func(a, b ocispec.Descriptor) bool { return a.Digest == b.Digest }) {
			t.Errorf("the platforms' manifests name different layers")
		}
	}
	for _, p := range platforms {
		dst := t.TempDir()
		_, err := newClient(t, blobber.WithPlatform(p)).Pull(ctx, ref, dst)
		testtree.Must(t, err)
		testtree.Equal(t, src, dst)
	}
}
