package blobber_test

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// A push whose temporary directory fills up while the layer is staged
// names that directory (which the user can change with TMPDIR), not the
// temporary file, which is gone by the time they read the message. The
// temporary directory is a small tmpfs, which needs the right to mount.
func TestPushStagingErrorNamesTheDirectory(t *testing.T) {
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=256k"); err != nil {
		t.Skipf("cannot mount a small tmpfs (%v): needs root", err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, syscall.MNT_DETACH) })
	src := t.TempDir()
	noise := make([]byte, 2<<20) // random: it does not compress
	rand.Read(noise)
	testtree.Must(t, os.WriteFile(filepath.Join(src, "noise"), noise, 0o644))
	reg := registrytest.Start(t)
	c, err := blobber.NewClient()
	testtree.Must(t, err)
	t.Setenv("TMPDIR", mnt)
	_, err = c.Push(context.Background(), reg.Host()+"/staging/full:v1", os.DirFS(src))
	if err == nil {
		t.Fatal("a push staging 2 MiB in a 256 KiB directory succeeded")
	}
	if msg := err.Error(); !strings.Contains(msg, "staging the layer in "+mnt+" (set TMPDIR") || strings.Contains(msg, "blobber-layer-") {
		t.Errorf("error %q: want it to name %s, not the temporary file", msg, mnt)
	}
}
