package blobber

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// A walk opens a directory's files one after another: OpenRegular opens
// each directory once for all of them (not once per file, as an open of
// "dir/name" through the root would), and still reads the right bytes.
func TestTreeOpenRegularOpensEachDirectoryOnce(t *testing.T) {
	dir := t.TempDir()
	var names []string
	for _, d := range []string{"a", "a/deep", "b"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"1", "2", "3"} {
			name := d + "/" + f
			names = append(names, name)
			if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), []byte(name), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	tree, err := OpenTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	for _, name := range names {
		f, err := tree.OpenRegular(name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(f)
		f.Close()
		if err != nil || string(got) != name {
			t.Fatalf("%s: read %q, %v", name, got, err)
		}
	}
	if tree.dirOpens != 3 {
		t.Errorf("opening 9 files in 3 directories opened a directory %d times, want 3", tree.dirOpens)
	}
	// An error names the whole path, as an open through the root did.
	_, err = tree.OpenRegular("a/missing")
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Path != "a/missing" || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("open of a missing file: %v, want a *fs.PathError for a/missing, not exist", err)
	}
}

// A directory swapped for a link out of the tree after a file in it was
// opened leads no later open outside the tree.
func TestTreeOpenRegularStaysInsideAfterSwap(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "2"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "a"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a", "1"), []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	tree, err := OpenTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	f, err := tree.OpenRegular("a/1")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Rename(filepath.Join(dir, "a"), filepath.Join(dir, "gone")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "a")); err != nil {
		t.Skip("no symlinks here:", err)
	}
	if f, err := tree.OpenRegular("a/2"); err == nil {
		got, _ := io.ReadAll(f)
		f.Close()
		t.Fatalf("opened a/2 through a link out of the tree: %q", got)
	}
}
