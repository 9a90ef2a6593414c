package blobber_test

import (
	"context"
	"net/http"
	"os"
	"sync/atomic"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// TestRetriesDoNotMultiply: a chunk the registry keeps failing (503) is sent
// once and retried WithRetries(n) times, in all: the transport, which could
// resend the chunk by itself, leaves it to the upload's loop, which resumes
// it under the same policy. Were both to retry it, n retries in each would
// send it (n+1)² times.
func TestRetriesDoNotMultiply(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	ref := proxy.Host() + "/retries/budget:v1"
	// The tag exists: the next push builds the layer first, then uploads
	// it in chunks (no upload while building).
	_, err := newClient(t).Push(ctx, ref, os.DirFS(newTree(t)))
	testtree.Must(t, err)

	const retries = 2
	var patches atomic.Int32
	proxy.SetFaults(func(r *http.Request) *registrytest.Fault {
		if r.Method != http.MethodPatch {
			return nil
		}
		patches.Add(1)
		return &registrytest.Fault{Status: http.StatusServiceUnavailable}
	})
	_, err = newClient(t, blobber.WithRetries(retries)).Push(ctx, ref, os.DirFS(faultTree(t)), blobber.WithUploadChunkSize(1<<20))
	if err == nil {
		t.Fatal("the push succeeded through a registry that fails every chunk")
	}
	if got := patches.Load(); got != retries+1 {
		t.Fatalf("the failing chunk was sent %d times, want %d (once, and %d retries)", got, retries+1, retries)
	}
}
