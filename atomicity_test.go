package blobber_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// A pull cancelled half way removes what it created and leaves what was
// already in the directory as it was.
func TestInterruptedPullLeavesNothingBehind(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	ref := proxy.Host() + "/atomic/pull:v1"
	_, err := newClient(t).Push(ctx, ref, os.DirFS(faultTree(t)))
	testtree.Must(t, err)

	dst := t.TempDir()
	testtree.Must(t, os.WriteFile(filepath.Join(dst, "mine.txt"), []byte("keep me"), 0o600))
	cctx, cancel := context.WithCancel(ctx)
	_, man := fetchManifest(t, proxy.Host(), "atomic/pull", "v1")
	layer := "/blobs/" + man.Layers[0].Digest.String()
	proxy.SetFaults(func(r *http.Request) *registrytest.Fault {
		// The pull reads the layer from its start in one request (its TOC,
		// read first, is a range from near its end).
		rng := r.Header.Get("Range")
		if isBlobGet(r) && strings.HasSuffix(r.URL.Path, layer) && (rng == "" || strings.HasPrefix(rng, "bytes=0-")) {
			cancel() // the user presses Ctrl-C while the layer downloads
			return &registrytest.Fault{Delay: 200 * time.Millisecond}
		}
		return nil
	})
	_, err = newClient(t, blobber.WithConcurrency(1)).Pull(cctx, ref, dst)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled pull: %v", err)
	}
	entries, _ := os.ReadDir(dst)
	if len(entries) != 1 || entries[0].Name() != "mine.txt" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("after a cancelled pull the directory holds %v", names)
	}
	if data, _ := os.ReadFile(filepath.Join(dst, "mine.txt")); string(data) != "keep me" {
		t.Fatal("a file that was already there changed")
	}
}

// A push that fails leaves the tag where it was: the manifest goes last.
func TestFailedPushLeavesTheTag(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	ref := proxy.Host() + "/atomic/push:v1"
	first, err := newClient(t).Push(ctx, ref, os.DirFS(newTree(t)))
	testtree.Must(t, err)

	proxy.SetFaults(func(r *http.Request) *registrytest.Fault {
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/blobs/uploads/") {
			return &registrytest.Fault{Status: http.StatusBadRequest}
		}
		return nil
	})
	_, err = newClient(t, blobber.WithRetries(-1)).Push(ctx, ref, os.DirFS(faultTree(t)))
	if err == nil {
		t.Fatal("push succeeded although every upload failed")
	}
	proxy.SetFaults(nil)
	img, err := newClient(t).Open(ctx, ref)
	testtree.Must(t, err)
	defer img.Close()
	if img.Descriptor().Digest != first.Digest {
		t.Fatalf("the tag moved to %s after a failed push", img.Descriptor().Digest)
	}
}

// With WithKeepModTimes the files' times travel with them.
func TestKeepModTimes(t *testing.T) {
	ctx := context.Background()
	src := newTree(t)
	when := time.Date(2024, 2, 29, 12, 30, 0, 0, time.UTC)
	testtree.Must(t, os.Chtimes(filepath.Join(src, "README.md"), when, when))
	c := newClient(t, blobber.WithOCILayout())
	ref := filepath.Join(t.TempDir(), "layout") + ":v1"
	_, err := c.Push(ctx, ref, os.DirFS(src), blobber.WithKeepModTimes())
	testtree.Must(t, err)
	dst := filepath.Join(t.TempDir(), "out")
	_, err = c.Pull(ctx, ref, dst)
	testtree.Must(t, err)
	info, err := os.Stat(filepath.Join(dst, "README.md"))
	testtree.Must(t, err)
	if !info.ModTime().Equal(when) {
		t.Fatalf("README.md's time is %v, want %v", info.ModTime(), when)
	}
	// By default times are not recorded, so the same tree gives the same digest.
	ref2 := filepath.Join(t.TempDir(), "layout") + ":v1"
	d1, err := c.Push(ctx, ref2, os.DirFS(src))
	testtree.Must(t, err)
	testtree.Must(t, os.Chtimes(filepath.Join(src, "README.md"), time.Now(), time.Now()))
	d2, err := c.Push(ctx, ref2, os.DirFS(src))
	testtree.Must(t, err)
	if d1.Digest != d2.Digest {
		t.Fatal("touching a file changed the default push's digest")
	}
}
