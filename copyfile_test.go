package blobber_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// TestCopyFileModesMatchPull: a file copied out of an artifact gets the
// permission bits the same file gets from Pull.
func TestCopyFileModesMatchPull(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	src := t.TempDir()
	testtree.Write(t, src, map[string]string{"f": "f\n", "bin/run": "#!/bin/sh\n", "bin/setuid": "s\n"})
	modes := map[string]os.FileMode{"f": 0o664, "bin/run": 0o775, "bin/setuid": 0o4755}
	for name, mode := range modes {
		testtree.Must(t, os.Chmod(filepath.Join(src, name), mode))
	}
	c := newClient(t)
	ref := reg.Host() + "/copy/modes:v1"
	_, err := c.Push(ctx, ref, os.DirFS(src))
	testtree.Must(t, err)
	pulled := filepath.Join(t.TempDir(), "out")
	_, err = c.Pull(ctx, ref, pulled)
	testtree.Must(t, err)

	img, err := c.Open(ctx, ref)
	testtree.Must(t, err)
	defer img.Close()
	copied := t.TempDir()
	for name, mode := range modes {
		dst := filepath.Join(copied, filepath.Base(name))
		testtree.Must(t, img.CopyFile(ctx, name, dst))
		want, err := os.Stat(filepath.Join(pulled, name))
		testtree.Must(t, err)
		got, err := os.Stat(dst)
		testtree.Must(t, err)
		if got.Mode() != want.Mode() || got.Mode() != blobber.DiskPerm(mode) {
			t.Errorf("%s (%v): copied %v, pulled %v, DiskPerm %v", name, mode, got.Mode(), want.Mode(), blobber.DiskPerm(mode))
		}
		data, err := os.ReadFile(dst)
		testtree.Must(t, err)
		if orig, _ := os.ReadFile(filepath.Join(src, name)); string(data) != string(orig) {
			t.Errorf("%s: copied %q", name, data)
		}
	}
}

// TestFailedCopyFileLeavesNothing: a copy that fails half-way, or is
// cancelled, leaves no temporary file, and a file it would have replaced
// as it was.
func TestFailedCopyFileLeavesNothing(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	ref := proxy.Host() + "/copy/fail:v1"
	c := newClient(t, blobber.WithConcurrency(1))
	_, err := c.Push(ctx, ref, os.DirFS(faultTree(t)))
	testtree.Must(t, err)
	img, err := c.Open(ctx, ref)
	testtree.Must(t, err)
	defer img.Close()

	// The copy asks for big.bin's chunks in one request: the first chunk
	// comes through and the connection drops; the request that resumes
	// is refused.
	var seen atomic.Int32
	proxy.SetFaults(func(r *http.Request) *registrytest.Fault {
		if !isBlobGet(r) {
			return nil
		}
		if seen.Add(1) > 1 {
			return &registrytest.Fault{Status: http.StatusForbidden}
		}
		return &registrytest.Fault{CutAfter: 5 << 20}
	})
	dir := t.TempDir()
	err = img.CopyFile(ctx, "big.bin", filepath.Join(dir, "big.bin"))
	if err == nil {
		t.Fatal("the copy succeeded through a refusing registry")
	}
	if seen.Load() < 2 {
		t.Fatalf("%d blob requests: the copy did not get as far as a second range", seen.Load())
	}
	assertDir(t, dir, nil)

	testtree.Must(t, os.WriteFile(filepath.Join(dir, "big.bin"), []byte("keep"), 0o644))
	err = img.CopyFile(ctx, "big.bin", filepath.Join(dir, "big.bin"))
	if err == nil {
		t.Fatal("the copy over a file succeeded through a refusing registry")
	}
	assertDir(t, dir, map[string]string{"big.bin": "keep"})

	proxy.SetFaults(nil)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := img.CopyFile(cancelled, "small.txt", filepath.Join(dir, "small.txt")); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled copy: %v", err)
	}
	assertDir(t, dir, map[string]string{"big.bin": "keep"})
}

// assertDir checks that dir holds exactly the files of want.
func assertDir(t *testing.T, dir string, want map[string]string) {
	t.Helper()
	des, err := os.ReadDir(dir)
	testtree.Must(t, err)
	if len(des) != len(want) {
		var names []string
		for _, de := range des {
			names = append(names, de.Name())
		}
		t.Fatalf("%s holds %q, want %d files", dir, names, len(want))
	}
	for name, content := range want {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(data) != content {
			t.Fatalf("%s: %q, %v; want %q", name, data, err, content)
		}
	}
}
