//go:build linux || darwin

package blobber

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/blobber-dev/blobber/internal/registrytest"
)

// Through the mount: a hundred small files and three big ones read all at
// once, the big ones each read ahead, end with the files' bytes, and the
// chunks of all of them stay within the one budget of the mount.
func TestMountManyFilesAtOnceStayWithinTheMountBudget(t *testing.T) {
	skipWithoutFUSE(t)
	const small, big, bigSize = 100, 3, 12 << 20
	sizes := map[string]int{}
	for i := range small {
		sizes[fmt.Sprintf("small/%03d.txt", i)] = 4096 + i
	}
	for i := range big {
		sizes[fmt.Sprintf("big/%d.bin", i)] = bigSize
	}
	src := t.TempDir()
	want := writeRandomFiles(t, src, 10, sizes)
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
	m := mountForTest(t, img)
	readAllAtOnce(t, m, want)
	m.mem.mu.Lock()
	defer m.mem.mu.Unlock()
	t.Logf("%d chunks fetched, %d bytes held at most, budget %d", m.mem.fetched, m.mem.peak, m.mem.budget)
	if m.mem.peak > mountBudget {
		t.Errorf("the mount held %d bytes of chunks at most, over its budget of %d", m.mem.peak, int64(mountBudget))
	}
}
