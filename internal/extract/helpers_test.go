package extract

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// open starts an extraction into a fresh directory that Open creates itself.
func open(t *testing.T, opts Options) (*Dir, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "dst")
	d, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Abort() })
	return d, dir
}

// write is CreateFile, one WriteAt and Commit.
func write(d *Dir, name, content string, mode fs.FileMode, mtime time.Time) error {
	f, err := d.CreateFile(name, mode, int64(len(content)), mtime)
	if err != nil {
		return err
	}
	if _, err := f.WriteAt([]byte(content), 0); err != nil {
		return errors.Join(err, f.Discard())
	}
	return f.Commit()
}

// snapshot describes every path under root: type, permission bits, and for
// files their content and mtime, for symlinks their target. Directory mtimes
// are left out because adding and removing entries legitimately moves them.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			m[rel] = "symlink -> " + target
		case fi.IsDir():
			m[rel] = fmt.Sprintf("dir %v", fi.Mode())
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			m[rel] = fmt.Sprintf("file %v %q %v", fi.Mode(), b, fi.ModTime().UnixNano())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func sameSnapshot(t *testing.T, before, after map[string]string) {
	t.Helper()
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s: was %s, now %q", k, v, after[k])
		}
	}
	for k, v := range after {
		if _, ok := before[k]; !ok {
			t.Errorf("%s: new path left behind: %s", k, v)
		}
	}
}

// noTemps fails if any temporary or backup name is left under root.
func noTemps(t *testing.T, root string) {
	t.Helper()
	for p := range snapshot(t, root) {
		if strings.Contains(filepath.Base(p), ".blobber-") {
			t.Errorf("temporary left behind: %s", p)
		}
	}
}

func mustNotExist(t *testing.T, p string) {
	t.Helper()
	if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s exists after cleanup (err=%v)", p, err)
	}
}

func checkErr(t *testing.T, what string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Errorf("%s: unexpected error %v", what, err)
	case want != nil && !errors.Is(err, want):
		t.Errorf("%s: got error %v, want %v", what, err, want)
	}
}

var isLinux = runtime.GOOS == "linux"
