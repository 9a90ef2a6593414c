package extract

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/blobber-dev/blobber/internal/testtree"
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

// noTemps fails if any temporary or backup name is left under root.
func noTemps(t *testing.T, root string) {
	t.Helper()
	for p := range testtree.Snapshot(t, root) {
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
