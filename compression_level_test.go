package blobber_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

const levelAnnotation = "dev.blobber.layer.compression-level"

// compressibleTree is a tree whose layer shrinks with the level.
func compressibleTree(t *testing.T) string {
	dir := t.TempDir()
	var b strings.Builder
	for i := range 20000 {
		b.WriteString("line ")
		b.WriteString(strings.Repeat(string(rune('a'+i%26)), i%13))
		b.WriteString(" of a text that compresses\n")
	}
	testtree.Write(t, dir, map[string]string{"big.txt": b.String(), "small/a.txt": "alpha"})
	return dir
}

// Each level builds its own layer, recorded in the layer's annotations,
// and every one reads back to the same tree; the explicit default level
// builds the default's layer.
func TestCompressionLevelsBuildDifferentLayers(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	src := compressibleTree(t)
	c := newClient(t)
	cases := []struct {
		name, comp, level, annotation string
	}{
		{"gzip-default", "gzip", "", "5"},
		{"gzip-1", "gzip", "1", "1"},
		{"gzip-9", "gzip", "9", "9"},
		{"zstd-default", "zstd", "", "default"},
		{"zstd-fastest", "zstd", "fastest", "fastest"},
		{"zstd-best", "zstd", "best", "best"},
	}
	layers := map[string]string{} // digest → case
	for _, tc := range cases {
		ref := reg.Host() + "/level/" + tc.name + ":v1"
		_, err := c.Push(ctx, ref, os.DirFS(src), blobber.WithCompression(blobber.Compression(tc.comp)), blobber.WithCompressionLevel(tc.level))
		testtree.Must(t, err)
		in, err := c.Inspect(ctx, ref)
		testtree.Must(t, err)
		l := in.Layers[0].Descriptor
		if got := l.Annotations[levelAnnotation]; got != tc.annotation {
			t.Errorf("%s: annotation %s = %q, want %q", tc.name, levelAnnotation, got, tc.annotation)
		}
		if other, ok := layers[l.Digest.String()]; ok {
			t.Errorf("%s built the same layer as %s", tc.name, other)
		}
		layers[l.Digest.String()] = tc.name
		dst := t.TempDir() + "/out"
		_, err = c.Pull(ctx, ref, dst)
		testtree.Must(t, err)
		testtree.Equal(t, src, dst)
	}

	// "5" is what the gzip default builds: the same layer.
	ref := reg.Host() + "/level/gzip-5:v1"
	_, err := c.Push(ctx, ref, os.DirFS(src), blobber.WithCompressionLevel("5"))
	testtree.Must(t, err)
	in, err := c.Inspect(ctx, ref)
	testtree.Must(t, err)
	if got := layers[in.Layers[0].Descriptor.Digest.String()]; got != "gzip-default" {
		t.Errorf("level 5 built a layer other than the default's (same as %q)", got)
	}
}

// A tree pushed again at another level is built again; at the same level,
// its earlier layer is reused.
func TestCompressionLevelIsPartOfReuse(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	c := newClient(t, blobber.WithCache(t.TempDir()))
	src := compressibleTree(t)
	first, err := c.Push(ctx, reg.Host()+"/reuse-level/t:v1", os.DirFS(src), blobber.WithCompressionLevel("1"))
	testtree.Must(t, err)

	before := blobber.ClientCounts(c)
	other, err := c.Push(ctx, reg.Host()+"/reuse-level/t:v2", os.DirFS(src), blobber.WithCompressionLevel("9"))
	testtree.Must(t, err)
	if n := blobber.ClientCounts(c); other.Digest == first.Digest || n.ReusedPushes != before.ReusedPushes || n.LayersBuilt != before.LayersBuilt+1 {
		t.Fatalf("a push at level 9 reused the level 1 layer: %d reused, %d built", n.ReusedPushes-before.ReusedPushes, n.LayersBuilt-before.LayersBuilt)
	}

	before = blobber.ClientCounts(c)
	again, err := c.Push(ctx, reg.Host()+"/reuse-level/t:v3", os.DirFS(src), blobber.WithCompressionLevel("9"))
	testtree.Must(t, err)
	if n := blobber.ClientCounts(c); again.Digest != other.Digest || n.ReusedPushes != before.ReusedPushes+1 || n.LayersBuilt != before.LayersBuilt {
		t.Fatalf("a push at the same level was rebuilt: %d reused, %d built", n.ReusedPushes-before.ReusedPushes, n.LayersBuilt-before.LayersBuilt)
	}
}

// A level that is no level, or not one of the compression's, fails the
// push before the registry is asked anything, whatever the options' order.
func TestCompressionLevelRefusedBeforeAnything(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	src := t.TempDir()
	testtree.Write(t, src, map[string]string{"a.txt": "alpha"})
	for name, opts := range map[string][]blobber.PushOption{
		"zero":          {blobber.WithCompressionLevel("0")},
		"ten":           {blobber.WithCompressionLevel("10")},
		"word":          {blobber.WithCompressionLevel("fast")},
		"zstd-on-gzip":  {blobber.WithCompressionLevel("best")},
		"gzip-on-zstd":  {blobber.WithCompressionLevel("9"), blobber.WithCompression(blobber.Zstd)},
		"zstd-then-gz9": {blobber.WithCompression(blobber.Zstd), blobber.WithCompressionLevel("9")},
	} {
		t.Run(name, func(t *testing.T) {
			proxy.Reset()
			_, err := newClient(t).Push(context.Background(), proxy.Host()+"/level/bad:v1", os.DirFS(src), opts...)
			if !errors.Is(err, blobber.ErrInvalidOption) || !strings.Contains(err.Error(), "WithCompressionLevel") {
				t.Errorf("Push = %v, want ErrInvalidOption naming WithCompressionLevel", err)
			}
			if n := proxy.Stats().Requests; n != 0 {
				t.Errorf("%d requests to the registry, want none", n)
			}
		})
	}
}
