package blobber_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// walkCountingFS counts the listings of its root: one per walk of the tree.
type walkCountingFS struct {
	fs.FS
	walks atomic.Int32
}

func (w *walkCountingFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if name == "." {
		w.walks.Add(1)
	}
	return fs.ReadDir(w.FS, name)
}

// A push without a cache walks the tree twice, to check it and to build
// its layer: the fingerprint that tells whether the tree changed while it
// was read is only for a cache to remember, and a walk costs a stat of
// every entry (a push of small files spends much of its time in them).
func TestPushWithoutCacheWalksTheTreeTwice(t *testing.T) {
	reg := registrytest.Start(t)
	dir := t.TempDir()
	for _, name := range []string{"a.txt", "sub/b.txt", "sub/deeper/c.txt"} {
		testtree.Must(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		testtree.Must(t, os.WriteFile(filepath.Join(dir, name), []byte(name), 0o644))
	}
	src := &walkCountingFS{FS: os.DirFS(dir)}
	c := newClient(t)
	if _, err := c.Push(context.Background(), reg.Host()+"/walks/tree:v1", src); err != nil {
		t.Fatal(err)
	}
	if n := src.walks.Load(); n != 2 {
		t.Errorf("a push without a cache walked the tree %d times, want 2 (check and build)", n)
	}
}
