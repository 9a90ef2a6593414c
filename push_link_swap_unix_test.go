//go:build unix

package blobber_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// linkSwappingFS points the link "l" outside the tree when the push's
// second walk (the build's) lists the root, after the check walk judged it.
type linkSwappingFS struct {
	fs.FS
	dir   string
	walks atomic.Int32
}

func (w *linkSwappingFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if name == "." && w.walks.Add(1) == 2 {
		l := filepath.Join(w.dir, "l")
		if err := os.Remove(l); err != nil {
			return nil, err
		}
		if err := os.Symlink("../../etc/passwd", l); err != nil {
			return nil, err
		}
	}
	return fs.ReadDir(w.FS, name)
}

func (w *linkSwappingFS) ReadLink(name string) (string, error)   { return fs.ReadLink(w.FS, name) }
func (w *linkSwappingFS) Lstat(name string) (fs.FileInfo, error) { return fs.Lstat(w.FS, name) }

// A symlink swapped for one that leaves the tree between the check and the
// build is refused, as the check would have: the push publishes only what
// pull accepts.
func TestPushRefusesALinkSwappedOutOfTheTreeAfterTheCheck(t *testing.T) {
	reg := registrytest.Start(t)
	dir := t.TempDir()
	testtree.Must(t, os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a"), 0o644))
	testtree.Must(t, os.Symlink("a.txt", filepath.Join(dir, "l")))
	src := &linkSwappingFS{FS: os.DirFS(dir), dir: dir}
	_, err := newClient(t).Push(context.Background(), reg.Host()+"/walks/link:v1", src)
	if src.walks.Load() < 2 {
		t.Fatalf("the tree was walked %d times: the swap never happened", src.walks.Load())
	}
	if !errors.Is(err, blobber.ErrUnsupportedEntry) {
		t.Fatalf("push of a link swapped out of the tree: %v, want ErrUnsupportedEntry", err)
	}
}
