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

// Through the mount: a hundred small files and three big ones read all at
// once, the big ones each read ahead, end with the files' bytes, and the
// chunks of all of them stay within the one budget of the mount.
func TestMountManyFilesAtOnceStayWithinTheMountBudget(t *testing.T) {
	if f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0); err != nil {
		t.Skipf("skipping: a FUSE mount needs /dev/fuse, which cannot be opened here: %v", err)
	} else {
		f.Close()
	}
	const small, big, bigSize = 100, 3, 12 << 20
	src := t.TempDir()
	r := rand.New(rand.NewPCG(10, 11))
	want := map[string][]byte{}
	for i := range small + big {
		size, name := 4096+i, fmt.Sprintf("small/%03d.txt", i)
		if i >= small {
			size, name = bigSize, fmt.Sprintf("big/%d.bin", i-small)
		}
		data := make([]byte, size)
		for j := range data {
			data[j] = byte(r.Uint32())
		}
		want[name] = data
		if err := os.MkdirAll(filepath.Dir(filepath.Join(src, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	reg := registrytest.Start(t)
	ctx := context.Background()
	c, err := NewClient(WithCache(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	ref := reg.Host() + "/mount/many:v1"
	if _, err := c.Push(ctx, ref, os.DirFS(src), WithChunkSize(1<<20)); err != nil {
		t.Fatal(err)
	}
	img, err := c.Open(ctx, ref)
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
	m.mem.mu.Lock()
	defer m.mem.mu.Unlock()
	t.Logf("%d chunks fetched, %d bytes held at most, budget %d", m.mem.fetched, m.mem.peak, m.mem.budget)
	if m.mem.peak > mountBudget {
		t.Errorf("the mount held %d bytes of chunks at most, over its budget of %d", m.mem.peak, int64(mountBudget))
	}
}
