package blobber_test

import (
	"context"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// A first split push to a new tag uploads each layer while it is built,
// each in a session opened before its build: the first in the session
// Push opened to check its right to push, the others opened ahead. No
// session is opened for nothing, and none is cancelled: one POST per
// layer and one for the config, no DELETE.
func TestPushLayersOpenOneSessionPerLayer(t *testing.T) {
	defer blobber.SetSplitLimits(64<<10, 8<<10, 32<<10, 128<<10)()
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	var mu sync.Mutex
	methods := map[string]int{}
	proxy.SetFaults(func(r *http.Request) *registrytest.Fault {
		if strings.Contains(r.URL.Path, "/blobs/uploads/") {
			mu.Lock()
			methods[r.Method]++
			mu.Unlock()
		}
		return nil
	})
	src := t.TempDir()
	writeSplitTree(t, src, 1)
	c := newClient(t, blobber.WithCache(t.TempDir()))
	ref := proxy.Host() + "/layers/sessions:v1"
	_, err := c.Push(context.Background(), ref, os.DirFS(src), blobber.WithLayers(blobber.LayersAuto))
	testtree.Must(t, err)
	layers := len(layersOf(t, c, ref))
	if layers < 4 {
		t.Fatalf("%d layers: the tree did not split", layers)
	}
	if n := blobber.ClientCounts(c).EarlyUploadsFailed; n != 0 {
		t.Fatalf("%d uploads while building failed", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if methods[http.MethodPost] != layers+1 || methods[http.MethodDelete] != 0 {
		t.Errorf("%d layers: %d sessions opened (POST), %d cancelled (DELETE); want %d opened (one per layer and the config's), none cancelled",
			layers, methods[http.MethodPost], methods[http.MethodDelete], layers+1)
	}
}
