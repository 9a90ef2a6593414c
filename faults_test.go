package blobber_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// faultTree is a tree big enough to span several pull segments.
func faultTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	big := make([]byte, 12<<20)
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	testtree.Must(t, os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o644))
	testtree.Must(t, os.WriteFile(filepath.Join(dir, "small.txt"), []byte("small\n"), 0o644))
	return dir
}

func isBlobGet(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/sha256:")
}

// firstN returns a FaultFunc giving fault to the first n requests that
// match, and counts all that match.
func firstN(n int32, match func(*http.Request) bool, fault registrytest.Fault, seen *atomic.Int32) registrytest.FaultFunc {
	return func(r *http.Request) *registrytest.Fault {
		if !match(r) {
			return nil
		}
		if seen.Add(1) <= n {
			return &fault
		}
		return nil
	}
}

func TestNetworkFaults(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	src := faultTree(t)
	ref := reg.Host() + "/faults/tree:v1"
	_, err := newClient(t).Push(ctx, ref, os.DirFS(src))
	testtree.Must(t, err)

	cases := map[string]struct {
		fault registrytest.Fault
		n     int32
	}{
		"throttled with Retry-After seconds": {registrytest.Fault{Status: 429, Header: http.Header{"Retry-After": {"0"}}}, 2},
		"unavailable":                        {registrytest.Fault{Status: 503}, 2},
		"connection dropped mid-body":        {registrytest.Fault{CutAfter: 100_000}, 3},
		"Range ignored":                      {registrytest.Fault{IgnoreRange: true}, 1000},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			proxy := reg.CountingProxy(t)
			var seen atomic.Int32
			proxy.SetFaults(firstN(tc.n, isBlobGet, tc.fault, &seen))
			c := newClient(t)
			pref := strings.Replace(ref, reg.Host(), proxy.Host(), 1)
			dst := filepath.Join(t.TempDir(), "out")
			_, err := c.Pull(ctx, pref, dst)
			testtree.Must(t, err)
			testtree.Equal(t, src, dst)
			if seen.Load() <= tc.n && tc.n < 1000 {
				t.Fatalf("only %d blob requests: the fault was never retried", seen.Load())
			}
			img, err := c.Open(ctx, pref)
			testtree.Must(t, err)
			var out bytes.Buffer
			_, err = img.WriteFileTo(&out, "small.txt")
			testtree.Must(t, err)
			if out.String() != "small\n" {
				t.Fatalf("cat gave %q", out.String())
			}
			img.Close()
		})
	}
}

func TestDroppedDownloadResumesInsteadOfRestarting(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	src := faultTree(t)
	ref := proxy.Host() + "/faults/resume:v1"
	c := newClient(t, blobber.WithConcurrency(1))
	_, err := c.Push(ctx, ref, os.DirFS(src))
	testtree.Must(t, err)
	var seen atomic.Int32
	proxy.SetFaults(firstN(4, isBlobGet, registrytest.Fault{CutAfter: 1 << 20}, &seen))
	proxy.Reset()
	_, err = c.Pull(ctx, ref, filepath.Join(t.TempDir(), "out"))
	testtree.Must(t, err)
	// Four drops after 1 MiB each: a restart would fetch those MiBs again.
	if got, limit := proxy.Stats().BlobBytes, int64(13<<20); got > limit {
		t.Fatalf("fetched %d bytes for a ~12 MiB layer: downloads restarted instead of resuming", got)
	}
}

func TestFinalErrorsAreNotRetried(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	ref := proxy.Host() + "/faults/final:v1"
	_, err := newClient(t).Push(ctx, ref, os.DirFS(faultTree(t)))
	testtree.Must(t, err)
	for _, status := range []int{400, 403, 404} {
		var seen atomic.Int32
		proxy.SetFaults(firstN(1000, isBlobGet, registrytest.Fault{Status: status}, &seen))
		_, err := newClient(t).Pull(ctx, ref, filepath.Join(t.TempDir(), "out"))
		if err == nil {
			t.Fatalf("status %d: pull succeeded", status)
		}
		if seen.Load() != 1 {
			t.Errorf("status %d: %d blob requests, want 1 (never retried)", status, seen.Load())
		}
	}
}

func TestFailedUploadIsRetried(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	src := faultTree(t)
	isUpload := func(r *http.Request) bool {
		return (r.Method == http.MethodPut || r.Method == http.MethodPatch) && strings.Contains(r.URL.Path, "/blobs/uploads/")
	}
	var seen atomic.Int32
	proxy.SetFaults(firstN(1, isUpload, registrytest.Fault{FailUploadAfter: 1 << 20}, &seen))
	ref := proxy.Host() + "/faults/upload:v1"
	desc, err := newClient(t).Push(ctx, ref, os.DirFS(src))
	testtree.Must(t, err)
	if seen.Load() < 2 {
		t.Fatalf("%d uploads: the failed one was not retried", seen.Load())
	}
	got, err := newClient(t).Pull(ctx, ref, filepath.Join(t.TempDir(), "out"))
	testtree.Must(t, err)
	if got.Digest != desc.Digest {
		t.Fatal("pulled a different artifact")
	}
	// With retries off, the same fault is one clear error.
	seen.Store(0)
	_, err = newClient(t, blobber.WithRetries(-1)).Push(ctx, proxy.Host()+"/faults/upload2:v1", os.DirFS(faultTree(t)))
	if err == nil || errors.Is(err, context.Canceled) {
		t.Fatalf("upload failure without retries: %v", err)
	}
}

func TestChunkedUploadResumes(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	src := faultTree(t)
	isPatch := func(r *http.Request) bool { return r.Method == http.MethodPatch }
	var seen atomic.Int32
	// The third chunk fails half way through.
	proxy.SetFaults(func(r *http.Request) *registrytest.Fault {
		if isPatch(r) && seen.Add(1) == 3 {
			return &registrytest.Fault{FailUploadAfter: 1 << 20}
		}
		return nil
	})
	ref := proxy.Host() + "/faults/chunked:v1"
	desc, err := newClient(t).Push(ctx, ref, os.DirFS(src), blobber.WithUploadChunkSize(2<<20))
	testtree.Must(t, err)
	if n := seen.Load(); n < 7 {
		t.Fatalf("%d PATCH requests for a ~12 MiB layer in 2 MiB chunks, with one failure", n)
	}
	// Resuming sends the failed chunk's rest, not the whole layer again.
	if up := proxy.Stats().UploadBytes; up > 15<<20 {
		t.Fatalf("uploaded %d bytes for a ~12 MiB layer", up)
	}
	dst := filepath.Join(t.TempDir(), "out")
	got, err := newClient(t).Pull(ctx, ref, dst)
	testtree.Must(t, err)
	if got.Digest != desc.Digest {
		t.Fatal("pulled another artifact")
	}
	testtree.Equal(t, src, dst)
}
