//go:build unix

package blobber_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// fifoSwappingTree replaces the file victim with a FIFO when the build
// opens it, after the walk listed it as a regular file.
type fifoSwappingTree struct {
	*blobber.Tree
	dir, victim string
	once        sync.Once
	err         error
}

func (s *fifoSwappingTree) OpenRegular(name string) (fs.File, error) {
	s.swap(name)
	return s.Tree.OpenRegular(name)
}

// Open swaps too: a build that opens files the ordinary way meets the FIFO
// there.
func (s *fifoSwappingTree) Open(name string) (fs.File, error) {
	s.swap(name)
	return s.Tree.Open(name)
}

func (s *fifoSwappingTree) swap(name string) {
	if name != s.victim {
		return
	}
	s.once.Do(func() {
		p := filepath.Join(s.dir, filepath.FromSlash(name))
		if s.err = os.Remove(p); s.err == nil {
			s.err = syscall.Mkfifo(p, 0o644)
		}
	})
}

// pushSwappingInFIFO pushes tree (of the directory dir) as ref with c,
// a.txt swapped for a FIFO when the push opens it, and returns the push's
// error. It fails the test if the push hangs on the FIFO (for as long as
// no one writes to it: forever, for a push no one watches).
func pushSwappingInFIFO(t *testing.T, c *blobber.Client, ref string, tree *blobber.Tree, dir string) error {
	t.Helper()
	swapping := &fifoSwappingTree{Tree: tree, dir: dir, victim: "a.txt"}
	done := make(chan error, 1)
	go func() {
		_, err := c.Push(context.Background(), ref, swapping)
		done <- err
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		// Unblock the open so the test can end.
		if f, ferr := os.OpenFile(filepath.Join(dir, "a.txt"), os.O_WRONLY, 0); ferr == nil {
			f.Close()
		}
		t.Fatal("the push hung on a FIFO swapped in for a.txt")
	}
	if swapping.err != nil {
		t.Fatalf("swapping: %v", swapping.err)
	}
	return err
}

// A file swapped for a FIFO between the walk and its open fails the push,
// naming it, instead of blocking it.
func TestPushOfATreeDoesNotHangOnASwappedInFIFO(t *testing.T) {
	reg := registrytest.Start(t)
	dir := t.TempDir()
	testtree.Must(t, os.WriteFile(filepath.Join(dir, "a.txt"), []byte("public\n"), 0o644))
	tree, err := blobber.OpenTree(dir)
	testtree.Must(t, err)
	defer tree.Close()
	err = pushSwappingInFIFO(t, newClient(t), reg.Host()+"/toctou/fifo:v1", tree, dir)
	if err == nil || !strings.Contains(err.Error(), "a.txt") || !strings.Contains(err.Error(), "changed while the push read it") {
		t.Fatalf("push: %v; want an error naming a.txt as changed", err)
	}
	if _, err := newClient(t).Open(context.Background(), reg.Host()+"/toctou/fifo:v1"); !errors.Is(err, blobber.ErrNotFound) {
		t.Errorf("open after the failed push: %v, want ErrNotFound (nothing tagged)", err)
	}
}
