package cache

import (
	"os"
	"path/filepath"
	"testing"
)

// An entry's files are reached from their directory's root, held open,
// rather than by walking the cache directory's path every time.
func TestLayoutNamesResolveFromTheirDirectoryRoot(t *testing.T) {
	c := openCache(t, t.TempDir())
	for _, d := range []string{blobsDir, partialDir, locksDir} {
		root, name := c.root.in(d + "/entry")
		if root == c.root.Root || name != "entry" {
			t.Errorf("%s/entry resolves as %q from the cache directory's root", d, name)
		}
	}
	for _, name := range []string{"blobs", "partial/sha256/deeper/x", "elsewhere/x"} {
		if root, got := c.root.in(name); root != c.root.Root || got != name {
			t.Errorf("%s resolves as %q from a directory's root", name, got)
		}
	}

	// What goes in through a held root is where the cache directory's
	// root finds it, and a rename between directories still works.
	f := newFixture(t, 1000)
	b := f.blob(t)
	mustRead(t, b, f.data, 0, 1000)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if !exists(f.path(blobsDir + "/" + f.hex())) {
		t.Errorf("the complete blob is not in %s", blobsDir)
	}
}

// A symlink where a layout directory belongs, planted after Open made it a
// directory, is not held as that directory's root: partial data and
// complete blobs must never alias.
func TestDirectoryRootIsNotASymlink(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{blobsDir, "partial"} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.FromSlash(d)), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../blobs/sha256", filepath.Join(dir, "partial", "sha256")); err != nil {
		t.Skip("no symlinks here:", err)
	}
	top, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := &cacheRoot{Root: top}
	defer r.Close()
	r.openDirRoots([]string{blobsDir, partialDir})
	if _, held := r.dirs[partialDir]; held {
		t.Error("partial/sha256, a symlink to blobs/sha256, is held as a directory")
	}
	if _, held := r.dirs[blobsDir]; !held {
		t.Error("blobs/sha256 is not held")
	}
}
