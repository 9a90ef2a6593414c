package extract

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// An empty target directory that cannot be written fails the extraction at
// once, naming the directory the user gave, never the hidden staging
// directory or its lock file. As root, whom permission bits do not stop,
// the target is a read-only bind mount, which needs the right to mount.
func TestReadOnlyTargetNamesTheUsersDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		if err := syscall.Mount(dir, dir, "", syscall.MS_BIND, ""); err != nil {
			t.Skipf("cannot bind-mount (%v): needs the right to mount", err)
		}
		t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
		if err := syscall.Mount(dir, dir, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
			t.Skipf("cannot remount read-only (%v)", err)
		}
	} else if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	d, err := Open(dir, Options{})
	if err == nil {
		d.Abort()
		t.Fatal("extraction into a read-only directory started")
	}
	if msg := err.Error(); !strings.Contains(msg, dir) || strings.Contains(msg, ".staging") || strings.Contains(msg, ".blobber") {
		t.Errorf("error %q: want it to name %s and no staging name", msg, dir)
	}
}
