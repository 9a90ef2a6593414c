package blobber_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/containerd/stargz-snapshotter/estargz"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// A tree below the split's threshold is one layer under LayersAuto, byte
// for byte the artifact a push without the option makes.
func TestPushLayersSmallTreeUnchanged(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	src := newTree(t)
	c := newClient(t)
	one, err := c.Push(ctx, reg.Host()+"/layers/small:one", os.DirFS(src))
	testtree.Must(t, err)
	auto, err := c.Push(ctx, reg.Host()+"/layers/small:auto", os.DirFS(src), blobber.WithLayers(blobber.LayersAuto))
	testtree.Must(t, err)
	if one.Digest != auto.Digest {
		t.Fatalf("auto gave %s, one layer %s", auto.Digest, one.Digest)
	}
	if _, err := c.Push(ctx, reg.Host()+"/layers/small:x", os.DirFS(src), blobber.WithLayers("2")); !errors.Is(err, blobber.ErrInvalidOption) {
		t.Fatalf("WithLayers(2): %v", err)
	}
}

// writeSplitTree writes files of a few KiB (distinct, barely
// compressible) and one large file.
func writeSplitTree(t *testing.T, dir string, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	files := map[string]string{}
	for i := range 150 {
		b := make([]byte, 1000+r.IntN(3000))
		for j := range b {
			b[j] = byte('a' + r.IntN(26))
		}
		files[fmt.Sprintf("d%d/f%03d", i%7, i)] = string(b)
	}
	big := make([]byte, 100<<10)
	for j := range big {
		big[j] = byte(r.IntN(256))
	}
	files["big.bin"] = string(big)
	testtree.Write(t, dir, files)
}

func layersOf(t *testing.T, c *blobber.Client, ref string) []ocispec.Descriptor {
	t.Helper()
	in, err := c.Inspect(context.Background(), ref)
	testtree.Must(t, err)
	var out []ocispec.Descriptor
	for _, l := range in.Layers {
		out = append(out, l.Descriptor)
	}
	return out
}

// A split push is reproducible, reads back whole, passes estargz's own
// check on every layer, and after one file changes uploads one layer.
func TestPushLayersSplit(t *testing.T) {
	defer blobber.SetSplitLimits(64<<10, 8<<10, 32<<10, 128<<10)()
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	src := t.TempDir()
	writeSplitTree(t, src, 1)
	c := newClient(t)
	auto := blobber.WithLayers(blobber.LayersAuto)
	repo := proxy.Host() + "/layers/split"
	v1, err := c.Push(ctx, repo+":v1", os.DirFS(src), auto)
	testtree.Must(t, err)
	layers1 := layersOf(t, c, repo+":v1")
	if len(layers1) < 4 {
		t.Fatalf("%d layers", len(layers1))
	}
	proxy.Reset()
	again, err := c.Push(ctx, repo+":again", os.DirFS(src), auto)
	testtree.Must(t, err)
	if again.Digest != v1.Digest {
		t.Fatalf("the same tree gave %s, then %s", v1.Digest, again.Digest)
	}
	if up := proxy.Stats().UploadBytes; up > 4<<10 {
		t.Errorf("pushing the same tree again uploaded %d bytes", up)
	}

	dst := filepath.Join(t.TempDir(), "out")
	_, err = c.Pull(ctx, repo+":v1", dst)
	testtree.Must(t, err)
	testtree.Equal(t, src, dst)

	// One small file changes: one layer is new, and only it is uploaded.
	testtree.Must(t, os.WriteFile(filepath.Join(src, "d3/f073"), []byte("changed\n"), 0o644))
	proxy.Reset()
	_, err = c.Push(ctx, repo+":v2", os.DirFS(src), auto)
	testtree.Must(t, err)
	uploaded := proxy.Stats().UploadBytes
	layers2 := layersOf(t, c, repo+":v2")
	var fresh []ocispec.Descriptor
	for _, l := range layers2 {
		if !containsDigest(layers1, l.Digest) {
			fresh = append(fresh, l)
		}
	}
	if len(fresh) != 1 || len(layers2) != len(layers1) {
		t.Fatalf("%d of %d layers new (was %d layers)", len(fresh), len(layers2), len(layers1))
	}
	// The config changes with the layer: it holds every layer's TOC.
	in, err := c.Inspect(ctx, repo+":v2")
	testtree.Must(t, err)
	if limit := fresh[0].Size + in.Config.Size + 4<<10; uploaded > limit {
		t.Errorf("uploaded %d bytes; the new layer is %d, the config %d", uploaded, fresh[0].Size, in.Config.Size)
	}
	verifyEveryTOC(t, reg.Host()+"/layers/split", layers2)
	dst = filepath.Join(t.TempDir(), "out2")
	_, err = c.Pull(ctx, repo+":v2", dst)
	testtree.Must(t, err)
	testtree.Equal(t, src, dst)
}

func containsDigest(descs []ocispec.Descriptor, d digest.Digest) bool {
	for _, l := range descs {
		if l.Digest == d {
			return true
		}
	}
	return false
}

// verifyEveryTOC runs estargz's VerifyTOC on every layer: each is an
// eStargz blob any reader of one layer accepts.
func verifyEveryTOC(t *testing.T, ref string, layers []ocispec.Descriptor) {
	t.Helper()
	repo, err := remote.NewRepository(ref)
	testtree.Must(t, err)
	repo.PlainHTTP = true
	for i, l := range layers {
		blob, err := content.FetchAll(context.Background(), repo, l)
		testtree.Must(t, err)
		r, err := estargz.Open(io.NewSectionReader(bytes.NewReader(blob), 0, int64(len(blob))))
		if err != nil {
			t.Fatalf("layer %d: %v", i, err)
		}
		if _, err := r.VerifyTOC(digest.Digest(l.Annotations[estargz.TOCJSONDigestAnnotation])); err != nil {
			t.Fatalf("layer %d: VerifyTOC: %v", i, err)
		}
	}
}
