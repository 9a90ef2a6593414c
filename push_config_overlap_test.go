package blobber_test

import (
	"context"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// A one-layer push uploads its config while its layer's upload ends: the
// first blob upload to end (a PUT) is held until the other's PUT comes,
// which it does only if the two are under way at once.
func TestPushUploadsTheConfigWhileTheLayerUploadEnds(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	dir := t.TempDir()
	testtree.Write(t, dir, map[string]string{"a.txt": "a", "sub/b.txt": "b"})
	var mu sync.Mutex
	puts := 0
	second := make(chan struct{})
	waitedInVain := false
	proxy.SetFaults(func(r *http.Request) *registrytest.Fault {
		if r.Method != http.MethodPut || !strings.Contains(r.URL.Path, "/blobs/uploads/") {
			return nil
		}
		mu.Lock()
		puts++
		first := puts == 1
		if puts == 2 {
			close(second)
		}
		mu.Unlock()
		if first {
			select {
			case <-second:
			case <-time.After(10 * time.Second):
				mu.Lock()
				waitedInVain = true
				mu.Unlock()
			}
		}
		return nil
	})
	if _, err := newClient(t).Push(context.Background(), proxy.Host()+"/overlap/config:v1", os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if puts != 2 || waitedInVain {
		t.Errorf("%d blob PUTs; the first waited for the second in vain: %v", puts, waitedInVain)
	}
}
