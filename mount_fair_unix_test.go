//go:build linux || darwin

package blobber

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/blobber-dev/blobber/internal/registrytest"
)

// Through the mount: more big files read at once than the mount's budget
// holds chunks for (four of the default 4 MiB) each fetch every chunk about
// once, instead of evicting one another's chunks and fetching them again,
// and the mount stays within its budget.
func TestMountManyBigReadersFetchEachChunkOnce(t *testing.T) {
	if f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0); err != nil {
		t.Skipf("skipping: a FUSE mount needs /dev/fuse, which cannot be opened here: %v", err)
	} else {
		f.Close()
	}
	const files, size = 6, 16 << 20
	src := t.TempDir()
	r := rand.New(rand.NewPCG(12, 13))
	want := map[string][]byte{}
	for i := range files {
		data := make([]byte, size)
		for j := range data {
			data[j] = byte(r.Uint32())
		}
		name := fmt.Sprintf("big%d.bin", i)
		want[name] = data
		if err := os.WriteFile(filepath.Join(src, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
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
	m, err := img.Mount(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := m.Unmount(); err != nil {
			t.Error(err)
		}
	}()
	proxy.Reset()

	start := time.Now()
	var wg sync.WaitGroup
	for name, data := range want {
		wg.Go(func() {
			got, err := os.ReadFile(filepath.Join(m.Dir(), name))
			if err != nil {
				t.Error(err)
			} else if !bytes.Equal(got, data) {
				t.Errorf("%s differs through the mount", name)
			}
		})
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("reads through the mount still waiting after two minutes: deadlocked")
	}
	st := proxy.Stats()
	m.mem.mu.Lock()
	defer m.mem.mu.Unlock()
	const chunks = files * size / (4 << 20)
	t.Logf("%d files of %d bytes read at once in %v: %d chunks fetched for %d, %d blob bytes in %d requests, %d bytes held at most, budget %d",
		files, size, time.Since(start), m.mem.fetched, chunks, st.BlobBytes, st.BlobRequests, m.mem.peak, m.mem.budget)
	if m.mem.fetched > chunks+chunks/8 {
		t.Errorf("%d chunk fetches for %d chunks: the readers took one another's chunks", m.mem.fetched, chunks)
	}
	if limit := int64(files*size) + int64(files*size)/8; st.BlobBytes > limit {
		t.Errorf("%d blob bytes fetched for %d bytes of files", st.BlobBytes, files*size)
	}
	if m.mem.peak > m.mem.budget {
		t.Errorf("the mount held %d bytes of chunks at most, over its budget of %d", m.mem.peak, m.mem.budget)
	}
}
