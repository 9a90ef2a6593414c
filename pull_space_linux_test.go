package blobber_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	ta "github.com/blobber-dev/blobber/internal/testartifact"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// A small blob that declares more bytes of files than the target's file
// system has free is refused before the target is created (a full disk
// would have failed it half-way, after filling the disk). The target is a
// 1 MiB tmpfs, which needs the right to mount.
func TestPullRefusesWhatDoesNotFit(t *testing.T) {
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("cannot mount a small tmpfs to pull into (%v): needs root", err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, syscall.MNT_DETACH) })
	reg := registrytest.Start(t)
	ctx := context.Background()
	a := hostileEStargz(t, ta.File("zeros", strings.Repeat("\x00", 4<<20), 0o644))
	repo, ref := hostileRepo(t, reg.Host(), "toobig")
	_, err := a.Push(ctx, repo, "v1")
	testtree.Must(t, err)
	c, err := blobber.NewClient()
	testtree.Must(t, err)
	dir := mnt + "/out"
	_, err = c.Pull(ctx, ref+":v1", dir)
	if !errors.Is(err, blobber.ErrLimitExceeded) || !strings.Contains(err.Error(), "free") {
		t.Fatalf("Pull: %v, want ErrLimitExceeded naming the free space", err)
	}
	if _, err := os.Lstat(dir); err == nil {
		t.Errorf("the refused pull created %s", dir)
	}
}
