package main

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
)

// TestLayerStashMakesEachPushAFirstPush pushes the same tree to two
// repositories, the second inside the stash: while it runs, the layer the
// first made is out of the registry's storage, so the registry stores the
// upload instead of deleting it as a duplicate; afterwards the stash is
// empty and both artifacts read back whole.
func TestLayerStashMakesEachPushAFirstPush(t *testing.T) {
	ctx := context.Background()
	reg, stash := registryWithStash(t)
	tree := fstest.MapFS{"a.txt": {Data: []byte(strings.Repeat("layer bytes\n", 1000)), Mode: 0o644}}
	push := func(ref string) func() (sample, error) {
		return func() (sample, error) { _, err := newClient(t).Push(ctx, ref, tree); return sample{}, err }
	}

	first := reg.Host() + "/bench/one:v1"
	if _, err := stash.around(ctx, "tree", first, push(first)); err != nil {
		t.Fatal(err)
	}
	layers := stash.layers["tree"]
	if len(layers) != 1 {
		t.Fatalf("learned layers %v, want one", layers)
	}
	blob := stash.blobDir(layers[0])
	if _, err := os.Stat(filepath.Join(blob, "data")); err != nil {
		t.Fatalf("the layer is not where the stash looks for it: %v", err)
	}

	second := reg.Host() + "/bench/two:v1"
	var presentDuringPush bool
	_, err := stash.around(ctx, "tree", second, func() (sample, error) {
		_, statErr := os.Stat(blob)
		presentDuringPush = statErr == nil
		return push(second)()
	})
	if err != nil {
		t.Fatal(err)
	}
	if presentDuringPush {
		t.Error("the layer of the first push was in the registry while the second ran")
	}
	if entries, _ := os.ReadDir(stash.dir); len(entries) != 0 {
		t.Errorf("the stash kept %d entries after a push that put the layer back", len(entries))
	}
	for _, ref := range []string{first, second} {
		img, err := newClient(t).Open(ctx, ref)
		if err != nil {
			t.Fatalf("open %s: %v", ref, err)
		}
		data, err := fs.ReadFile(img, "a.txt")
		img.Close()
		if err != nil || string(data) != string(tree["a.txt"].Data) {
			t.Fatalf("%s reads back %d bytes, %v", ref, len(data), err)
		}
	}
}

// TestLayerStashPutsBackWhatAFailedPushDidNotRecreate: a push that fails
// leaves the registry as it found it.
func TestLayerStashPutsBackWhatAFailedPushDidNotRecreate(t *testing.T) {
	ctx := context.Background()
	reg, stash := registryWithStash(t)
	tree := fstest.MapFS{"b.txt": {Data: []byte("kept\n"), Mode: 0o644}}
	ref := reg.Host() + "/bench/kept:v1"
	if _, err := stash.around(ctx, "tree", ref, func() (sample, error) { _, err := newClient(t).Push(ctx, ref, tree); return sample{}, err }); err != nil {
		t.Fatal(err)
	}
	if _, err := stash.around(ctx, "tree", ref, func() (sample, error) { return sample{}, os.ErrDeadlineExceeded }); err == nil {
		t.Fatal("the failing push's error was lost")
	}
	if _, err := os.Stat(stash.blobDir(stash.layers["tree"][0])); err != nil {
		t.Fatalf("the layer was not put back: %v", err)
	}
	img, err := newClient(t).Open(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if data, err := fs.ReadFile(img, "b.txt"); err != nil || string(data) != "kept\n" {
		t.Fatalf("read back %q, %v", data, err)
	}
}

// newClient is a client with a cache of its own, as each of the
// benchmark's commands has: what it reads comes from the registry.
func newClient(t *testing.T) *blobber.Client {
	t.Helper()
	c, err := blobber.NewClient(blobber.WithPlainHTTP(true), blobber.WithCache(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// registryWithStash starts a registry that stores blobs in a directory, as
// the benchmark's does, and a stash over that directory.
func registryWithStash(t *testing.T) (*registrytest.Registry, *layerStash) {
	t.Helper()
	storage := t.TempDir()
	reg, err := registrytest.StartServer(registrytest.WithFilesystem(storage))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(reg.Close)
	return reg, newLayerStash(storage, reg.Host(), t.TempDir())
}
