//go:build linux || darwin

package blobber_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	ta "github.com/blobber-dev/blobber/internal/testartifact"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// needFUSE skips the test, saying why, where no FUSE mount can be made.
func needFUSE(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("skipping: a FUSE mount needs /dev/fuse, which cannot be opened here: %v", err)
	}
	f.Close()
}

// mountImage mounts img at a new directory and unmounts it when the test
// ends, checking that nothing stays mounted there.
func mountImage(t *testing.T, img *blobber.Image) *blobber.Mounted {
	t.Helper()
	dir := t.TempDir()
	m, err := img.Mount(dir)
	testtree.Must(t, err)
	t.Cleanup(func() {
		if err := m.Unmount(); err != nil {
			t.Error(err)
		}
		if isMounted(t, dir) {
			t.Errorf("%s is still mounted after Unmount", dir)
		}
	})
	return m
}

// isMounted tells whether dir is a mount point of this process's mount
// namespace.
func isMounted(t *testing.T, dir string) bool {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	testtree.Must(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && fields[4] == dir {
			return true
		}
	}
	return false
}

// The mount shows the pushed tree as it is: paths, types, modes, sizes,
// contents and symlinks; and unmounting leaves nothing mounted.
func TestMountShowsTheTree(t *testing.T) {
	needFUSE(t)
	reg := registrytest.Start(t)
	ctx := context.Background()
	src := newTree(t)
	c := newClient(t, blobber.WithCache(t.TempDir()))
	ref := reg.Host() + "/test/mount:v1"
	_, err := c.Push(ctx, ref, os.DirFS(src), blobber.WithChunkSize(4096))
	testtree.Must(t, err)
	img, err := c.Open(ctx, ref)
	testtree.Must(t, err)
	defer img.Close()
	m := mountImage(t, img)
	if !isMounted(t, m.Dir()) {
		t.Fatalf("%s is not in /proc/self/mountinfo", m.Dir())
	}
	testtree.Equal(t, src, m.Dir())
	info, err := os.Stat(filepath.Join(m.Dir(), "data/a.txt"))
	testtree.Must(t, err)
	if info.Size() != 10000 {
		t.Fatalf("data/a.txt: size %d, want 10000", info.Size())
	}
	// No extended attributes, and the kernel is told so once for all
	// (ls -l would ask for each file).
	if _, err := unix.Getxattr(filepath.Join(m.Dir(), "README.md"), "user.x", nil); !errors.Is(err, unix.EOPNOTSUPP) {
		t.Fatalf("getxattr: %v, want EOPNOTSUPP", err)
	}
	if err := os.WriteFile(filepath.Join(m.Dir(), "new"), []byte("x"), 0o644); !errors.Is(err, syscall.EROFS) {
		t.Fatalf("writing a new file: %v, want EROFS", err)
	}
}

// Hardlinks of the artifact share one inode in the mount.
func TestMountHardlinksShareTheInode(t *testing.T) {
	needFUSE(t)
	reg := registrytest.Start(t)
	ctx := context.Background()
	blob, tocDigest, diffID, err := ta.EStargz(ta.Tar(
		ta.File("f", "shared content", 0o640),
		ta.Dir("sub/"),
		ta.Hardlink("sub/h", "f"),
		ta.Hardlink("h2", "f"),
	))
	testtree.Must(t, err)
	repo, err := remote.NewRepository(reg.Host() + "/test/links")
	testtree.Must(t, err)
	repo.PlainHTTP = true
	_, err = ta.New(blob, tocDigest, diffID).Push(ctx, repo, "v1")
	testtree.Must(t, err)
	img, err := newClient(t).Open(ctx, reg.Host()+"/test/links:v1")
	testtree.Must(t, err)
	defer img.Close()
	m := mountImage(t, img)
	f, err := os.Stat(filepath.Join(m.Dir(), "f"))
	testtree.Must(t, err)
	for _, name := range []string{"sub/h", "h2"} {
		h, err := os.Stat(filepath.Join(m.Dir(), name))
		testtree.Must(t, err)
		if !os.SameFile(f, h) {
			t.Errorf("%s is not the same file as f", name)
		}
		data, err := os.ReadFile(filepath.Join(m.Dir(), name))
		testtree.Must(t, err)
		if string(data) != "shared content" {
			t.Errorf("%s reads %q", name, data)
		}
	}
	if n := f.Sys().(*syscall.Stat_t).Nlink; n != 3 {
		t.Errorf("f has %d links, want 3", n)
	}
	if f.Mode().Perm() != 0o640 {
		t.Errorf("f has mode %v, want 0640", f.Mode())
	}
}

// cat of a 4 KiB file through the mount reads its chunk and nothing more
// than ls does; a chunk that does not verify fails the read with EIO
// rather than giving bad bytes.
func TestMountReadsOnlyTheChunksTouched(t *testing.T) {
	needFUSE(t)
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	src := t.TempDir()
	big := bytes.Repeat([]byte("0123456789abcdef"), 4<<20/16*8) // 32 MiB
	testtree.Must(t, os.WriteFile(filepath.Join(src, "big.bin"), big, 0o644))
	small := bytes.Repeat([]byte("fedcba9876543210"), 256) // 4 KiB
	testtree.Must(t, os.WriteFile(filepath.Join(src, "small.txt"), small, 0o644))
	testtree.Must(t, os.WriteFile(filepath.Join(src, "other.txt"), []byte("other"), 0o644))
	c := newClient(t)
	ref := proxy.Host() + "/test/mount-reads:v1"
	_, err := c.Push(ctx, ref, os.DirFS(src))
	testtree.Must(t, err)

	proxy.Reset()
	img, err := c.Open(ctx, ref)
	testtree.Must(t, err)
	defer img.Close()
	m := mountImage(t, img)
	entries, err := os.ReadDir(m.Dir())
	testtree.Must(t, err)
	if len(entries) != 3 {
		t.Fatalf("ls: %d entries", len(entries))
	}
	ls := proxy.Stats().BlobBytes
	data, err := os.ReadFile(filepath.Join(m.Dir(), "small.txt"))
	testtree.Must(t, err)
	if !bytes.Equal(data, small) {
		t.Fatal("small.txt differs")
	}
	cat := proxy.Stats().BlobBytes - ls
	t.Logf("ls read %d bytes of blob, cat of 4 KiB %d more", ls, cat)
	if cat > 64<<10 {
		t.Fatalf("cat of 4 KiB through the mount read %d bytes of blob (ls read %d), want its chunk only", cat, ls)
	}

	proxy.SetFaults(blobGets(func(r *http.Request) bool {
		return r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/")
	}, registrytest.Fault{FlipFirstByte: true}))
	_, err = os.ReadFile(filepath.Join(m.Dir(), "other.txt"))
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("reading a corrupted chunk: %v, want EIO", err)
	}
	proxy.SetFaults(nil)
	f, err := os.Open(filepath.Join(m.Dir(), "big.bin"))
	testtree.Must(t, err)
	defer f.Close()
	got, err := io.ReadAll(f)
	testtree.Must(t, err)
	if !bytes.Equal(got, big) {
		t.Fatal("big.bin differs through the mount")
	}
}

// Unmounting while a file of the mount is still open detaches the mount
// rather than leaving it behind.
func TestMountUnmountsWhileBusy(t *testing.T) {
	needFUSE(t)
	reg := registrytest.Start(t)
	ctx := context.Background()
	c := newClient(t)
	ref := reg.Host() + "/test/mount-busy:v1"
	_, err := c.Push(ctx, ref, os.DirFS(newTree(t)))
	testtree.Must(t, err)
	img, err := c.Open(ctx, ref)
	testtree.Must(t, err)
	defer img.Close()
	dir := t.TempDir()
	m, err := img.Mount(dir)
	testtree.Must(t, err)
	f, err := os.Open(filepath.Join(dir, "README.md"))
	testtree.Must(t, err)
	defer f.Close()
	testtree.Must(t, m.Unmount())
	if isMounted(t, dir) {
		t.Fatalf("%s is still mounted after Unmount with a file open", dir)
	}
	testtree.Must(t, m.Unmount()) // a second call changes nothing
}
