package blobber_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	ta "github.com/blobber-dev/blobber/internal/testartifact"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// The check of a recorded layer reads the layer's TOC from the registry,
// which is no more trusted than for any read: a footer that puts the TOC
// at the layer's first byte must cost what the TOC limit allows, not the
// whole layer (fetched, and held in memory, before the limit was checked).
// The record is refused and its layer built again; the other layers are
// reused with their tails, so the push gives the first push's manifest.
func TestPushReuseHostileFooterIsBounded(t *testing.T) {
	t.Cleanup(blobber.SetSplitLimits(64<<10, 8<<10, 32<<10, 128<<10))
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	repo := proxy.Host() + "/reuse/footer"
	src := t.TempDir()
	writeSplitTree(t, src, 1)
	huge := make([]byte, 1<<20)
	r := rand.New(rand.NewPCG(2, 2))
	for i := range huge {
		huge[i] = byte(r.IntN(256))
	}
	testtree.Must(t, os.WriteFile(filepath.Join(src, "huge.bin"), huge, 0o644))
	const tocLimit = 128 << 10
	c := newClient(t, blobber.WithCache(t.TempDir()), blobber.WithLimits(blobber.Limits{MaxTOCBytes: tocLimit}))
	ctx := context.Background()
	push := func(tag string) ocispec.Descriptor {
		desc, err := c.Push(ctx, repo+":"+tag, os.DirFS(src), blobber.WithLayers(blobber.LayersAuto))
		testtree.Must(t, err)
		return desc
	}
	v1 := push("v1")

	// The layer of huge.bin, the largest, as the registry holds it.
	var big ocispec.Descriptor
	for _, l := range layersOf(t, c, repo+":v1") {
		if l.Size > big.Size {
			big = l
		}
	}
	if big.Size < 1<<20 {
		t.Fatalf("the largest layer is %d bytes", big.Size)
	}
	resp, err := http.Get("http://" + reg.Host() + "/v2/reuse/footer/blobs/" + big.Digest.String())
	testtree.Must(t, err)
	blob, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	testtree.Must(t, err)
	hostile := ta.WithFooter(blob, 0)

	var served atomic.Int64
	proxy.SetFaults(func(r *http.Request) *registrytest.Fault {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/blobs/"+big.Digest.String()) {
			return nil
		}
		first, last := int64(0), int64(len(hostile)-1)
		if spec, ok := strings.CutPrefix(r.Header.Get("Range"), "bytes="); ok {
			a, b, _ := strings.Cut(spec, "-")
			first, _ = strconv.ParseInt(a, 10, 64)
			if b != "" {
				last, _ = strconv.ParseInt(b, 10, 64)
			}
			last = min(last, int64(len(hostile)-1))
		}
		served.Add(last - first + 1)
		return &registrytest.Fault{Status: http.StatusPartialContent, Body: hostile[first : last+1], Header: http.Header{
			"Content-Type":  {"application/octet-stream"},
			"Content-Range": {fmt.Sprintf("bytes %d-%d/%d", first, last, len(hostile))},
		}}
	})
	before := blobber.ClientCounts(c)
	v2 := push("v2")
	after := blobber.ClientCounts(c)
	if after.RefusedRecords != before.RefusedRecords+1 || after.LayersBuilt != before.LayersBuilt+1 {
		t.Errorf("refused %d records and built %d layers; want 1 and 1",
			after.RefusedRecords-before.RefusedRecords, after.LayersBuilt-before.LayersBuilt)
	}
	if n := served.Load(); n > tocLimit+64<<10 {
		t.Errorf("the check of the layer's record read %d bytes of its %d; the TOC limit is %d", n, big.Size, tocLimit)
	}
	if v2.Digest != v1.Digest {
		t.Errorf("the push gave %s, the first %s", v2.Digest, v1.Digest)
	}
}
