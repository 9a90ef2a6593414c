//go:build linux || darwin

package blobber

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/blobber-dev/blobber/internal/registrytest"
)

// Through the mount: more big files read at once than the mount's budget
// holds chunks for (four of the default 4 MiB) each fetch every chunk about
// once, instead of evicting one another's chunks and fetching them again,
// and the mount stays within its budget.
func TestMountManyBigReadersFetchEachChunkOnce(t *testing.T) {
	skipWithoutFUSE(t)
	const files, size = 6, 16 << 20
	sizes := map[string]int{}
	for i := range files {
		sizes[fmt.Sprintf("big%d.bin", i)] = size
	}
	src := t.TempDir()
	want := writeRandomFiles(t, src, 12, sizes)
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	c, err := NewClient()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Push(ctx, reg.Host()+"/mount/fair:v1", os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	img, err := c.Open(ctx, proxy.Host()+"/mount/fair:v1")
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	m := mountForTest(t, img)
	proxy.Reset()
	start := time.Now()
	readAllAtOnce(t, m, want)
	st := proxy.Stats()
	m.mem.mu.Lock()
	defer m.mem.mu.Unlock()
	const chunks = files * size / (4 << 20)
	t.Logf("%d files of %d bytes read at once in %v: %d chunks fetched for %d, %d blob bytes in %d requests, %d bytes held at most, budget %d",
		files, size, time.Since(start), m.mem.fetched, chunks, st.BlobBytes, st.BlobRequests, m.mem.peak, m.mem.budget)
	// A reader the scheduler starves may lose a chunk fetched ahead for it
	// and fetch it again; readers that take one another's chunks fetched
	// them all twice over (e04ed92).
	if m.mem.fetched > chunks+chunks/4 {
		t.Errorf("%d chunk fetches for %d chunks: the readers took one another's chunks", m.mem.fetched, chunks)
	}
	if limit := int64(files*size) + int64(files*size)/4; st.BlobBytes > limit {
		t.Errorf("%d blob bytes fetched for %d bytes of files", st.BlobBytes, files*size)
	}
	if m.mem.peak > m.mem.budget {
		t.Errorf("the mount held %d bytes of chunks at most, over its budget of %d", m.mem.peak, m.mem.budget)
	}
}
