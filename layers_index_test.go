package blobber_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/containerd/stargz-snapshotter/estargz"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	ta "github.com/blobber-dev/blobber/internal/testartifact"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// listCost opens ref with a fresh client and walks it (best of three
// behind latency), and returns what the last listing cost.
func listCost(t *testing.T, proxy *registrytest.Proxy, ref string, want int, opts ...blobber.Option) (registrytest.Stats, time.Duration) {
	t.Helper()
	proxy.SetFaults(func(*http.Request) *registrytest.Fault { return &registrytest.Fault{Delay: 20 * time.Millisecond} })
	defer proxy.SetFaults(nil)
	best := time.Duration(1 << 62)
	var stats registrytest.Stats
	for range 3 {
		c := newClient(t, opts...)
		proxy.Reset()
		start := time.Now()
		img, err := c.Open(context.Background(), ref)
		testtree.Must(t, err)
		seen := 0
		testtree.Must(t, fs.WalkDir(img, ".", func(_ string, d fs.DirEntry, _ error) error {
			if !d.IsDir() {
				seen++
			}
			return nil
		}))
		img.Close()
		best = min(best, time.Since(start))
		stats = proxy.Stats()
		if seen != want {
			t.Fatalf("%s: listed %d files of %d", ref, seen, want)
		}
	}
	return stats, best
}

// A split push keeps its layers' tails in the config, so that listing the
// same tree as 2, 4 or 8 layers costs at most 1.5 times the requests of
// one layer: the manifest and the config, where one layer costs the
// manifest and its tail. A cached listing reads no blob at all.
func TestLayersIndexListCost(t *testing.T) {
	// Files of 2 KiB or more get a layer each; the rest make one group.
	defer blobber.SetSplitLimits(2<<10, 1<<40, 1<<40, 1<<40)()
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	for _, small := range []int{500, 5000} {
		for _, n := range []int{2, 4, 8} {
			src := t.TempDir()
			files := map[string]string{}
			for i := range small {
				files[fmt.Sprintf("d%02d/file-%06d.txt", i/100, i)] = strings.Repeat("x", 100+i%50)
			}
			for i := range n - 1 {
				files[fmt.Sprintf("zz/%02d.bin", i)] = strings.Repeat(fmt.Sprint(i), 4<<10)
			}
			testtree.Write(t, src, files)
			name := fmt.Sprintf("%s/index/cost-%d-%d", proxy.Host(), small, n)
			pusher := newClient(t)
			_, err := pusher.Push(ctx, name+":one", os.DirFS(src))
			testtree.Must(t, err)
			_, err = pusher.Push(ctx, name+":split", os.DirFS(src), blobber.WithLayers(blobber.LayersAuto))
			testtree.Must(t, err)
			if got := len(layersOf(t, pusher, name+":split")); got != n {
				t.Fatalf("the split push made %d layers, want %d", got, n)
			}
			one, oneTime := listCost(t, proxy, name+":one", len(files))
			split, splitTime := listCost(t, proxy, name+":split", len(files))
			t.Logf("%d files, %d layers: %d requests (%d to blobs, %d bytes), %v; one layer: %d (%d, %d bytes), %v",
				len(files), n, split.Requests, split.BlobRequests, split.BlobBytes, splitTime.Round(time.Millisecond),
				one.Requests, one.BlobRequests, one.BlobBytes, oneTime.Round(time.Millisecond))
			if 2*split.Requests > 3*one.Requests || 2*split.BlobRequests > 3*one.BlobRequests {
				t.Errorf("%d files in %d layers: %d requests (%d to blobs), more than 1.5 times one layer's %d (%d)",
					len(files), n, split.Requests, split.BlobRequests, one.Requests, one.BlobRequests)
			}
			cacheDir := t.TempDir()
			listCost(t, proxy, name+":split", len(files), blobber.WithCache(cacheDir))
			if cached, _ := listCost(t, proxy, name+":split", len(files), blobber.WithCache(cacheDir)); cached.BlobRequests != 0 {
				t.Errorf("%d layers, cached: %d blob requests, want none", n, cached.BlobRequests)
			}
		}
	}
}

// indexedLayers pushes layers with a config whose layer index is made by
// edit from the true one, and returns the reference.
func indexedLayers(t *testing.T, host, name string, layers []ta.Layer, edit func(tocs []map[string]any) any) string {
	t.Helper()
	var tocs []map[string]any
	for _, l := range layers {
		tail, err := ta.LayerTail(l.Blob)
		testtree.Must(t, err)
		tocs = append(tocs, map[string]any{"digest": l.Desc.Digest, "tocDigest": l.Desc.Annotations[estargz.TOCJSONDigestAnnotation], "tail": tail})
	}
	ref := host + "/index/" + name
	repo, err := remote.NewRepository(ref)
	testtree.Must(t, err)
	repo.PlainHTTP = true
	extra := map[string]any{"dev.blobber.layer-tocs": edit(tocs)}
	if _, err := ta.PushLayersWithConfig(context.Background(), repo, "v1", extra, map[string]string{"dev.blobber.config.layer-tocs": "1"}, layers...); err != nil {
		t.Fatal(err)
	}
	return ref + ":v1"
}

// pushLayeredLayers pushes layers with a plain config.
func pushLayeredLayers(t *testing.T, host, name string, layers []ta.Layer) string {
	t.Helper()
	ref := host + "/index/" + name
	repo, err := remote.NewRepository(ref)
	testtree.Must(t, err)
	repo.PlainHTTP = true
	if _, err := ta.PushLayers(context.Background(), repo, "v1", layers...); err != nil {
		t.Fatal(err)
	}
	return ref + ":v1"
}

// A config whose layer index disagrees with the layers is never trusted:
// an index that names other layers, or whose tail does not verify against
// the layer's own TOC digest, is ignored and the layers' own tails are
// read (the listing is the layers'); an index that agrees with the
// manifest's TOC digests while a layer holds another TOC gives the
// listing the manifest pins, whose bytes then fail to verify rather than
// read as anything.
func TestLayersIndexHostile(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	newLayers := func(second string) []ta.Layer {
		a, err := ta.NewLayer(ta.Dir("dir"), ta.File("a.txt", "alpha\n", 0o644))
		testtree.Must(t, err)
		b, err := ta.NewLayer(ta.Dir("dir"), ta.File("dir/b.txt", second, 0o644))
		testtree.Must(t, err)
		c, err := ta.NewLayer(ta.File("z/c.txt", "charlie\n", 0o644))
		testtree.Must(t, err)
		return []ta.Layer{a, b, c}
	}
	honest := func(tocs []map[string]any) any { return map[string]any{"layers": tocs} }
	cases := map[string]struct {
		edit      func([]map[string]any) any
		fromIndex bool // the listing is read from the config alone
	}{
		"honest": {honest, true},
		"swapped-tails": {func(tocs []map[string]any) any {
			tocs[0]["tail"], tocs[1]["tail"] = tocs[1]["tail"], tocs[0]["tail"]
			return honest(tocs)
		}, false},
		"other-layer-digest": {func(tocs []map[string]any) any {
			tocs[2]["digest"] = tocs[0]["digest"]
			return honest(tocs)
		}, false},
		"one-layer-short": {func(tocs []map[string]any) any { return honest(tocs[:2]) }, false},
		"truncated-tail": {func(tocs []map[string]any) any {
			tail := tocs[1]["tail"].([]byte)
			tocs[1]["tail"] = tail[len(tail)/2:]
			return honest(tocs)
		}, false},
		"not-an-index": {func([]map[string]any) any { return "layers" }, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ref := indexedLayers(t, proxy.Host(), name, newLayers("bravo\n"), tc.edit)
			proxy.Reset()
			img, err := newClient(t).Open(ctx, ref)
			testtree.Must(t, err)
			defer img.Close()
			if got, want := proxy.Stats().BlobRequests, int64(1); tc.fromIndex != (got == want) {
				t.Errorf("%d blob requests to open (read from the index: %v)", got, tc.fromIndex)
			}
			for name, want := range map[string]string{"a.txt": "alpha\n", "dir/b.txt": "bravo\n", "z/c.txt": "charlie\n"} {
				got, err := fs.ReadFile(img, name)
				testtree.Must(t, err)
				if string(got) != want {
					t.Errorf("%s: %q, want %q", name, got, want)
				}
			}
		})
	}
	t.Run("layer-holds-another-toc", func(t *testing.T) {
		layers := newLayers("bravo\n")
		pinned := newLayers("BRAVO, longer\n")[1]
		// The manifest pins the TOC of pinned, and the index holds it,
		// while the blob is the one of "bravo".
		layers[1].Desc.Annotations[estargz.TOCJSONDigestAnnotation] = pinned.Desc.Annotations[estargz.TOCJSONDigestAnnotation]
		pinnedTail, err := ta.LayerTail(pinned.Blob)
		testtree.Must(t, err)
		ref := indexedLayers(t, proxy.Host(), "another-toc", layers, func(tocs []map[string]any) any {
			tocs[1]["tail"] = pinnedTail
			return honest(tocs)
		})
		// Without the index, such an artifact is refused when opened.
		plain := pushLayeredLayers(t, proxy.Host(), "another-toc-plain", layers)
		if _, err := newClient(t).Open(ctx, plain); !errors.Is(err, blobber.ErrDigestMismatch) {
			t.Fatalf("open without the index: %v, want a digest mismatch", err)
		}
		img, err := newClient(t).Open(ctx, ref)
		if err != nil {
			if !errors.Is(err, blobber.ErrDigestMismatch) && !errors.Is(err, blobber.ErrNotEStargz) {
				t.Fatalf("open: %v", err)
			}
			return
		}
		defer img.Close()
		got, err := fs.ReadFile(img, "dir/b.txt")
		if err == nil {
			t.Fatalf("read %q from a layer whose TOC is not the one the manifest pins", got)
		}
		if !errors.Is(err, blobber.ErrDigestMismatch) && !errors.Is(err, blobber.ErrNotEStargz) {
			t.Errorf("read: %v, want a digest mismatch", err)
		}
	})
}
