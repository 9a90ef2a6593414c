//go:build !linux && !darwin

package blobber_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// Where FUSE is not supported, Mount says so.
func TestMountIsUnsupportedHere(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	c := newClient(t)
	ref := reg.Host() + "/test/mount:v1"
	_, err := c.Push(ctx, ref, os.DirFS(newTree(t)))
	testtree.Must(t, err)
	img, err := c.Open(ctx, ref)
	testtree.Must(t, err)
	defer img.Close()
	if _, err := img.Mount(t.TempDir()); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("Mount: %v, want errors.ErrUnsupported", err)
	}
	if err := blobber.Unmount(t.TempDir()); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("Unmount: %v, want errors.ErrUnsupported", err)
	}
}
