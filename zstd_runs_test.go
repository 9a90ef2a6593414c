package blobber_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
)

// A zstd layer whose runs of entries without content are cut into members
// of their own (internal/layer) goes through a registry and back whole, by
// Pull and by reads of the image as a file system.
func TestZstdRunsRoundTrip(t *testing.T) {
	src := t.TempDir()
	want := map[string]string{} // name: content, "-> target" or "/" for a directory
	add := func(name, what string) {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch {
		case what == "/":
			err = os.Mkdir(p, 0o755)
		case strings.HasPrefix(what, "-> "):
			err = os.Symlink(strings.TrimPrefix(what, "-> "), p)
		default:
			err = os.WriteFile(p, []byte(what), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
		want[name] = what
	}
	// Each run is longer than a member's worth of tar headers (2048 of
	// 512 bytes, 683 with a PAX header for a long name); files with
	// content, one of them in several chunks, stand between them.
	for i := range 2600 {
		add(fmt.Sprintf("a-empty/e%05d", i), "")
	}
	add("b.txt", "after the first run\n")
	for i := range 2500 {
		add(fmt.Sprintf("c-links/l%05d", i), fmt.Sprintf("-> ../a-empty/e%05d", i))
	}
	for i := range 1200 {
		add(fmt.Sprintf("d-dirs/dir%05d", i), "/")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	big := make([]byte, 50_000)
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	add("e.bin", string(big))
	for i := range 1500 {
		add(fmt.Sprintf("f-long/%s-%05d", strings.Repeat("long-name-", 12), i), "")
	}
	add("g.txt", "last\n")

	reg := registrytest.Start(t)
	ctx := context.Background()
	c, err := blobber.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	ref := reg.Host() + "/test/zstd-runs:v1"
	desc, err := c.Push(ctx, ref, os.DirFS(src), blobber.WithCompression("zstd"), blobber.WithChunkSize(16<<10))
	if err != nil {
		t.Fatal(err)
	}

	img, err := c.Open(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if err := check(want, img.ReadFile, img.ReadLink, img.Lstat); err != nil {
		t.Fatalf("reading the image: %v", err)
	}

	dst := filepath.Join(t.TempDir(), "out")
	got, err := c.Pull(ctx, ref, dst)
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest != desc.Digest {
		t.Fatalf("pulled %s, pushed %s", got.Digest, desc.Digest)
	}
	local := os.DirFS(dst).(interface {
		fs.ReadFileFS
		fs.ReadLinkFS
	})
	if err := check(want, local.ReadFile, local.ReadLink, local.Lstat); err != nil {
		t.Fatalf("pulled tree: %v", err)
	}
	// Nothing more: want lacks only the root and the parents add made.
	n := 0
	err = filepath.WalkDir(dst, func(string, fs.DirEntry, error) error { n++; return nil })
	if parents := 5; err != nil || n != len(want)+parents {
		t.Fatalf("pulled tree has %d entries (%v), want %d", n, err, len(want)+parents)
	}
}

// check compares a tree, read by the given functions, with want.
func check(want map[string]string, readFile func(string) ([]byte, error), readLink func(string) (string, error), lstat func(string) (fs.FileInfo, error)) error {
	for name, what := range want {
		info, err := lstat(name)
		if err != nil {
			return err
		}
		switch {
		case what == "/":
			if !info.IsDir() {
				return fmt.Errorf("%s is %v, want a directory", name, info.Mode())
			}
		case strings.HasPrefix(what, "-> "):
			target, err := readLink(name)
			if err != nil {
				return err
			}
			if "-> "+target != what {
				return fmt.Errorf("%s links to %q, want %q", name, target, what)
			}
		default:
			data, err := readFile(name)
			if err != nil {
				return err
			}
			if !info.Mode().IsRegular() || !bytes.Equal(data, []byte(what)) {
				return fmt.Errorf("%s is %v with %d bytes, want a file of %d", name, info.Mode(), len(data), len(what))
			}
		}
	}
	return nil
}
