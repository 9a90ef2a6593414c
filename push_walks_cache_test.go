package blobber_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/cache"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// A push with a cache walks the tree twice too: the check's walk also
// fingerprints the tree, and the build's walk tells whether the build read
// it in the state fingerprinted, where a walk before and one after the
// build each cost a stat of every entry.
func TestPushWithCacheWalksTheTreeTwice(t *testing.T) {
	reg := registrytest.Start(t)
	dir := t.TempDir()
	testtree.Write(t, dir, map[string]string{"a.txt": "a", "sub/b.txt": "bb", "sub/deeper/c.txt": "ccc"})
	cacheDir := t.TempDir()
	c := newClient(t, blobber.WithCache(cacheDir))
	src := &walkCountingFS{FS: os.DirFS(dir)}
	if _, err := c.Push(context.Background(), reg.Host()+"/walks/cached:v1", src); err != nil {
		t.Fatal(err)
	}
	if n := src.walks.Load(); n != 2 {
		t.Errorf("a push with a cache walked the tree %d times, want 2 (check with fingerprint, build)", n)
	}
	if n := fingerprintRecords(t, cacheDir); n != 1 {
		t.Fatalf("%d fingerprint records after a push of a still tree, want 1", n)
	}
	// And the record serves: the same tree again is tagged, not rebuilt,
	// after one walk for the check and the fingerprint and one to compare
	// the earlier layer's TOC with the tree.
	src.walks.Store(0)
	before := blobber.ClientCounts(c)
	if _, err := c.Push(context.Background(), reg.Host()+"/walks/cached:v2", src); err != nil {
		t.Fatal(err)
	}
	if n := blobber.ClientCounts(c); n.ReusedPushes != before.ReusedPushes+1 || n.LayersBuilt != before.LayersBuilt {
		t.Fatalf("the unchanged tree was not reused: %d reused, %d built", n.ReusedPushes-before.ReusedPushes, n.LayersBuilt-before.LayersBuilt)
	}
	if n := src.walks.Load(); n != 2 {
		t.Errorf("a re-push of an unchanged tree walked it %d times, want 2", n)
	}
}

// changingFS changes its tree once, when the build opens the file atOpen.
type changingFS struct {
	fs.FS
	atOpen string
	change func() error
	once   sync.Once
	err    error
}

func (c *changingFS) Open(name string) (fs.File, error) {
	if name == c.atOpen {
		c.once.Do(func() { c.err = c.change() })
	}
	return c.FS.Open(name)
}

// A tree that changes after it was fingerprinted, before or as the build
// reads it, is pushed as read but not remembered: a later push of the
// fingerprinted state must not be offered a layer that does not hold it.
// A rewrite leaves the file's size and modification time as they were, so
// that only its change time tells.
func TestPushDoesNotRememberATreeThatChangedBeforeItWasRead(t *testing.T) {
	reg := registrytest.Start(t)
	for _, tc := range []struct {
		name   string
		atOpen string
		change func(dir string) error
	}{
		{"a file rewritten as the build opens it", "sub/b.txt", func(dir string) error { return rewrite(filepath.Join(dir, "sub/b.txt"), "BB") }},
		{"a file rewritten before the build lists it", "a.txt", func(dir string) error { return rewrite(filepath.Join(dir, "sub/b.txt"), "BB") }},
		{"a file added before the build lists its directory", "a.txt", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "sub/new.txt"), []byte("new"), 0o644)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			testtree.Write(t, dir, map[string]string{"a.txt": "a", "sub/b.txt": "bb"})
			cacheDir := t.TempDir()
			c := newClient(t, blobber.WithCache(cacheDir))
			src := &changingFS{FS: os.DirFS(dir), atOpen: tc.atOpen, change: func() error { return tc.change(dir) }}
			ref := reg.Host() + "/walks/changing:v1"
			if _, err := c.Push(context.Background(), ref, src); err != nil {
				t.Fatal(err)
			}
			if src.err != nil {
				t.Fatalf("changing the tree: %v", src.err)
			}
			if n := fingerprintRecords(t, cacheDir); n != 0 {
				t.Errorf("%d fingerprint records of a tree that changed before the build read it, want 0", n)
			}
			out := filepath.Join(t.TempDir(), "out")
			if _, err := newClient(t).Pull(context.Background(), ref, out); err != nil {
				t.Fatal(err)
			}
			testtree.Equal(t, dir, out)
		})
	}
}

// rewrite gives the file name new content of the same size and puts its
// modification time back.
func rewrite(name, content string) error {
	info, err := os.Stat(name)
	if err != nil {
		return err
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		return err
	}
	return os.Chtimes(name, info.ModTime(), info.ModTime())
}

func fingerprintRecords(t *testing.T, cacheDir string) int {
	t.Helper()
	cc, err := cache.Open(cacheDir)
	testtree.Must(t, err)
	defer cc.Close()
	info, err := cc.Info()
	testtree.Must(t, err)
	n := 0
	for _, e := range info.Entries {
		if e.Kind == cache.KindFingerprint {
			n++
		}
	}
	return n
}
