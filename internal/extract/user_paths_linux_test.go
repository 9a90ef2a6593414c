package extract

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A write that fails (here: the file system is full) names the file as the
// user will know it, the target directory they gave and the entry's name,
// never the staging directory or a temporary name, in both ways of
// writing: into an empty directory through staging, and beside existing
// files under temporary names. The target is a small tmpfs, which needs
// the right to mount.
func TestFailedWriteNamesTheUsersPath(t *testing.T) {
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=64k"); err != nil {
		t.Skipf("cannot mount a small tmpfs (%v): needs root", err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, syscall.MNT_DETACH) })
	for _, c := range []struct {
		name     string
		existing bool
	}{{"staged", false}, {"per-file", true}} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(mnt, c.name)
			if c.existing {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "old"), []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			d, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Abort()
			if err := d.Mkdir("sub", 0o755, time.Time{}); err != nil {
				t.Fatal(err)
			}
			f, err := d.CreateFile("sub/big", 0o644, 1<<20, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.WriteAt(make([]byte, 1<<20), 0)
			if err == nil {
				t.Fatal("a 1 MiB write into a 64 KiB file system succeeded")
			}
			msg := err.Error()
			if want := filepath.Join(dir, "sub", "big"); !strings.Contains(msg, want) || strings.Contains(msg, ".blobber") {
				t.Errorf("error %q: want it to name %s and no temporary name", msg, want)
			}
		})
	}
}

// Into a directory nothing can be written to (a read-only file system
// here), the error names that directory, not the staging directory the
// extraction tried to make in it.
func TestReadOnlyTargetNamesTheUsersDir(t *testing.T) {
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", syscall.MS_RDONLY, "size=64k"); err != nil {
		t.Skipf("cannot mount a read-only tmpfs (%v): needs root", err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, syscall.MNT_DETACH) })
	d, err := Open(mnt, Options{})
	if err == nil {
		d.Abort()
		t.Fatal("Open of a read-only directory succeeded")
	}
	if msg := err.Error(); !strings.Contains(msg, mnt) || strings.Contains(msg, "staging") || strings.Contains(msg, ".blobber") {
		t.Errorf("error %q: want it to name %s and no temporary name", msg, mnt)
	}
}
