package blobber_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// As root, a mount reads ahead further than FUSE's handshake allows (4 MiB
// rather than the kernel's 128 KiB), so that a sequential reader's next
// bytes are asked for in a few large requests, before it wants them.
func TestMountRaisesReadaheadAsRoot(t *testing.T) {
	needFUSE(t)
	if os.Geteuid() != 0 {
		t.Skip("skipping: only root may raise a mount's readahead (sysfs read_ahead_kb)")
	}
	reg := registrytest.Start(t)
	ctx := context.Background()
	c := newClient(t)
	ref := reg.Host() + "/test/mount-readahead:v1"
	_, err := c.Push(ctx, ref, os.DirFS(newTree(t)))
	testtree.Must(t, err)
	img, err := c.Open(ctx, ref)
	testtree.Must(t, err)
	defer img.Close()
	m := mountImage(t, img)
	var st unix.Stat_t
	testtree.Must(t, unix.Stat(m.Dir(), &st))
	path := fmt.Sprintf("/sys/class/bdi/%d:%d/read_ahead_kb", unix.Major(st.Dev), unix.Minor(st.Dev))
	kb, err := os.ReadFile(path)
	testtree.Must(t, err)
	if got := strings.TrimSpace(string(kb)); got != "4096" {
		t.Errorf("%s is %s, want 4096", path, got)
	}
}
