package blobber_test

import (
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

// A pull asks the registry for a layer's bytes in one request, however
// many segments it reads and decodes them in: a registry pays for every
// request (Distribution opens the blob and fills a buffer for each), and
// over a real network each costs a round trip (fetch.Blob.ReadAhead).
// Without a cache and with one, every byte verified either way.
func TestPullAsksForEachLayerOnce(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	src, _, _ := cacheTree(t) // an 8 MiB file: a layer of several segments
	ref := proxy.Host() + "/pull/requests:v1"
	_, err := newClient(t).Push(ctx, ref, os.DirFS(src))
	testtree.Must(t, err)
	_, man := fetchManifest(t, proxy.Host(), "pull/requests", "v1")
	layer := man.Layers[0]

	var mu sync.Mutex
	var ranges []string // of the GETs of the layer's bytes before its TOC
	proxy.SetFaults(func(r *http.Request) *registrytest.Fault {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/blobs/"+layer.Digest.String()) {
			mu.Lock()
			ranges = append(ranges, r.Header.Get("Range"))
			mu.Unlock()
		}
		return nil
	})
	for name, opts := range map[string][]blobber.Option{
		"no cache": nil,
		"cache":    {blobber.WithCache(t.TempDir())},
	} {
		mu.Lock()
		ranges = nil
		mu.Unlock()
		dst := filepath.Join(t.TempDir(), "out")
		_, err := newClient(t, opts...).Pull(ctx, ref, dst)
		testtree.Must(t, err)
		testtree.Equal(t, src, dst)
		// Open reads the TOC from the layer's end; the pull then reads
		// the layer from its start.
		fromStart := 0
		for _, r := range ranges {
			if r == "" || strings.HasPrefix(r, "bytes=0-") {
				fromStart++
			}
		}
		if fromStart != 1 || len(ranges) > 3 {
			t.Errorf("%s: the pull of a layer of %d bytes sent GETs with ranges %q, want one from its start and one or two for its TOC", name, layer.Size, ranges)
		}
	}
}
