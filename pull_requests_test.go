package blobber_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// layerRanges pushes src to repo behind a counting proxy and returns the
// reference, the layer's size, and a function that returns (and forgets)
// the Range headers of the GETs of the layer since it was last called.
func layerRanges(t *testing.T, repo, src string) (ref string, size int64, ranges func() []string) {
	t.Helper()
	proxy := registrytest.Start(t).CountingProxy(t)
	ref = proxy.Host() + "/" + repo + ":v1"
	_, err := newClient(t).Push(context.Background(), ref, os.DirFS(src))
	testtree.Must(t, err)
	_, man := fetchManifest(t, proxy.Host(), repo, "v1")
	layer := man.Layers[0]
	var mu sync.Mutex
	var seen []string
	proxy.SetFaults(func(r *http.Request) *registrytest.Fault {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/blobs/"+layer.Digest.String()) {
			mu.Lock()
			seen = append(seen, r.Header.Get("Range"))
			mu.Unlock()
		}
		return nil
	})
	return ref, layer.Size, func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := seen
		seen = nil
		return out
	}
}

// A pull asks the registry for a layer's bytes in one request, however
// many segments it reads and decodes them in: a registry pays for every
// request (Distribution opens the blob and fills a buffer for each), and
// over a real network each costs a round trip (fetch.Blob.ReadAhead).
// Without a cache and with one, every byte verified either way.
func TestPullAsksForEachLayerOnce(t *testing.T) {
	src, _, _ := cacheTree(t) // an 8 MiB file: a layer of several segments
	ref, size, ranges := layerRanges(t, "pull/requests", src)
	for name, opts := range map[string][]blobber.Option{
		"no cache": nil,
		"cache":    {blobber.WithCache(t.TempDir())},
	} {
		dst := filepath.Join(t.TempDir(), "out")
		_, err := newClient(t, opts...).Pull(context.Background(), ref, dst)
		testtree.Must(t, err)
		testtree.Equal(t, src, dst)
		// Open reads the TOC from the layer's end; the pull then reads
		// the layer from its start.
		got := ranges()
		fromStart := 0
		for _, r := range got {
			if r == "" || strings.HasPrefix(r, "bytes=0-") {
				fromStart++
			}
		}
		if fromStart != 1 || len(got) > 3 {
			t.Errorf("%s: the pull of a layer of %d bytes sent GETs with ranges %q, want one from its start and one or two for its TOC", name, size, got)
		}
	}
}

// cat and cp of a file of several chunks ask for its chunks in one
// request, and check each.
func TestCatAsksForAFileOnce(t *testing.T) {
	src, _, big := cacheTree(t) // big.bin: 8 MiB, three chunks or more
	ref, _, ranges := layerRanges(t, "cat/requests", src)
	img, err := newClient(t).Open(context.Background(), ref)
	testtree.Must(t, err)
	defer img.Close()
	ranges() // the TOC's
	var out bytes.Buffer
	n, err := img.WriteFileTo(&out, "big.bin")
	if err != nil || n != int64(len(big)) || !bytes.Equal(out.Bytes(), big) {
		t.Fatalf("WriteFileTo = %d, %v, or other bytes", n, err)
	}
	if got := ranges(); len(got) != 1 {
		t.Errorf("cat of a file of 8 MiB sent GETs with ranges %q, want one", got)
	}
}
