package blobber_test

import (
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	ta "github.com/blobber-dev/blobber/internal/testartifact"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// What a listing of the same tree costs as 1, 2, 4 and 8 layers, behind a
// network that answers each request after latency: the requests are the
// manifest's and one TOC tail per layer (the tail read also holds the
// footer, so a layer whose TOC fits in it costs one request), and the
// tails are read in parallel, so the time grows far less than the
// requests. The times are logged (docs/layers.md quotes them), never
// asserted; the requests are.
func TestLayersListCost(t *testing.T) {
	const latency = 20 * time.Millisecond
	for _, files := range []int{500, 5000} {
		reg := registrytest.Start(t)
		proxy := reg.CountingProxy(t)
		var base int64
		for _, n := range []int{1, 2, 4, 8} {
			lt := newLayeredTree()
			per := files / n
			for l := range n {
				group := map[string]string{}
				for i := range per {
					name := fmt.Sprintf("d%02d/file-%06d.txt", (l*per+i)/100, l*per+i)
					group[name] = strings.Repeat("x", 100+i%50)
				}
				lt.layer(group)
			}
			ref := pushLayered(t, proxy.Host(), fmt.Sprintf("cost-%d-%d", files, n), ta.Options{}, lt.groups...)
			proxy.SetFaults(func(*http.Request) *registrytest.Fault { return &registrytest.Fault{Delay: latency} })
			var reqs, blobReqs int64
			list := func(opts ...blobber.Option) time.Duration {
				best := time.Duration(1 << 62)
				for range 3 {
					c := newClient(t, opts...) // no cache: every listing reads the registry
					proxy.Reset()
					start := time.Now()
					img, err := c.Open(context.Background(), ref)
					testtree.Must(t, err)
					seen := 0
					testtree.Must(t, fs.WalkDir(img, ".", func(string, fs.DirEntry, error) error { seen++; return nil }))
					img.Close()
					best = min(best, time.Since(start))
					ps := proxy.Stats()
					reqs, blobReqs = ps.Requests, ps.BlobRequests
					if seen < files {
						t.Fatalf("listed %d entries of %d files", seen, files)
					}
				}
				return best
			}
			wide := list(blobber.WithConcurrency(8))
			best := list()
			proxy.SetFaults(nil)
			if n == 1 {
				base = blobReqs
			} else if blobReqs != base+int64(n-1) {
				t.Errorf("%d files in %d layers: %d blob requests, want the one layer's %d and one more a layer", files, n, blobReqs, base)
			}
			t.Logf("%d files, %d layers: %d requests (%d to blobs), %v (%v with --concurrency 8)", files, n, reqs, blobReqs, best.Round(time.Millisecond), wide.Round(time.Millisecond))
		}
	}
}
