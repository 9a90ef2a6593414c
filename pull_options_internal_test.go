package blobber

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// A PullOption that fails makes Pull fail with its error before a request
// is sent or the directory is created.
func TestPullOptionErrorStopsPullBeforeAnything(t *testing.T) {
	ctx := context.Background()
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	src := t.TempDir()
	testtree.Write(t, src, map[string]string{"a.txt": "alpha"})
	c, err := NewClient()
	testtree.Must(t, err)
	ref := proxy.Host() + "/pullopts/tree:v1"
	_, err = c.Push(ctx, ref, os.DirFS(src))
	testtree.Must(t, err)
	proxy.Reset()

	refused := func(*pullOptions) error { return invalidOption("refusedOption: no") }
	dst := filepath.Join(t.TempDir(), "out")
	_, err = c.Pull(ctx, ref, dst, WithOverwrite(), refused)
	if !errors.Is(err, ErrInvalidOption) {
		t.Fatalf("Pull with a failing option = %v; want ErrInvalidOption", err)
	}
	if n := proxy.Stats().Requests; n != 0 {
		t.Errorf("Pull with a failing option sent %d requests; want 0", n)
	}
	if _, err := os.Lstat(dst); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Pull with a failing option left %s: %v", dst, err)
	}
}
