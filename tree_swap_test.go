package blobber_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// fileSwappingTree renames another regular file over victim when the build
// opens it: the same type and size, another inode.
type fileSwappingTree struct {
	*blobber.Tree
	dir, victim, with string
	once              sync.Once
	err               error
}

func (s *fileSwappingTree) OpenRegular(name string) (fs.File, error) {
	if name == s.victim {
		s.once.Do(func() {
			s.err = os.Rename(filepath.Join(s.dir, filepath.FromSlash(s.with)), filepath.Join(s.dir, filepath.FromSlash(name)))
		})
	}
	return s.Tree.OpenRegular(name)
}

// A file replaced by another of the same size between the walk and its
// open fails the push: an OpenTree file is checked against the walk by
// its identity (device and inode), not only its type and size.
func TestPushOfATreeRefusesAFileReplacedByAnother(t *testing.T) {
	reg := registrytest.Start(t)
	dir := t.TempDir()
	testtree.Write(t, dir, map[string]string{"sub/a.txt": "public", "other": "secret"})
	tree, err := blobber.OpenTree(dir)
	testtree.Must(t, err)
	defer tree.Close()
	swapping := &fileSwappingTree{Tree: tree, dir: dir, victim: "sub/a.txt", with: "other"}
	ref := reg.Host() + "/toctou/replaced:v1"
	_, err = newClient(t).Push(context.Background(), ref, swapping)
	if swapping.err != nil {
		t.Fatalf("swapping: %v", swapping.err)
	}
	if err == nil || !strings.Contains(err.Error(), "sub/a.txt") || !strings.Contains(err.Error(), "changed while the push read it") {
		t.Fatalf("push: %v; want an error naming sub/a.txt as changed", err)
	}
	if _, err := newClient(t).Open(context.Background(), ref); !errors.Is(err, blobber.ErrNotFound) {
		t.Errorf("open after the failed push: %v, want ErrNotFound (nothing tagged)", err)
	}
}
