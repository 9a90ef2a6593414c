package extract

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/blobber-dev/blobber/internal/testtree"
)

// The two-step move that file systems without RENAME_NOREPLACE get: it
// moves what is absent and refuses what is there.
func TestCheckThenRename(t *testing.T) {
	from, to := t.TempDir(), t.TempDir()
	testtree.Must(t, os.WriteFile(filepath.Join(from, "new"), []byte("n"), 0o644))
	testtree.Must(t, os.WriteFile(filepath.Join(from, "taken"), []byte("mine"), 0o644))
	testtree.Must(t, os.WriteFile(filepath.Join(to, "taken"), []byte("theirs"), 0o644))
	fromDir, err := os.Open(from)
	testtree.Must(t, err)
	defer fromDir.Close()
	toDir, err := os.Open(to)
	testtree.Must(t, err)
	defer toDir.Close()
	testtree.Must(t, checkThenRename(int(fromDir.Fd()), int(toDir.Fd()), "new"))
	if b, err := os.ReadFile(filepath.Join(to, "new")); err != nil || string(b) != "n" {
		t.Errorf("moved file: %q, %v", b, err)
	}
	if err := checkThenRename(int(fromDir.Fd()), int(toDir.Fd()), "taken"); !errors.Is(err, unix.EEXIST) {
		t.Errorf("onto an existing name: %v, want EEXIST", err)
	}
	if b, _ := os.ReadFile(filepath.Join(to, "taken")); string(b) != "theirs" {
		t.Errorf("existing file replaced: %q", b)
	}
}
