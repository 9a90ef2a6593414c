package blobber_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// An empty tree, and a tree of only empty directories, come back as they
// went: their TOC lists no files ("entries": null for the empty one), and
// ls and pull read it.
func TestEmptyTreesRoundTrip(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	trees := map[string]map[string]string{
		"empty": {},
		"dirs":  {"a/": "", "a/b/": "", "a/b/c/": "", "d/": ""},
	}
	for name, files := range trees {
		for _, comp := range []blobber.Compression{blobber.Gzip, blobber.Zstd} {
			t.Run(name+"-"+string(comp), func(t *testing.T) {
				src := t.TempDir()
				testtree.Write(t, src, files)
				c := newClient(t)
				ref := reg.Host() + "/empty/" + name + "-" + string(comp) + ":v1"
				desc, err := c.Push(ctx, ref, os.DirFS(src), blobber.WithCompression(comp))
				testtree.Must(t, err)

				img, err := c.Open(ctx, ref)
				testtree.Must(t, err)
				var listed []string
				testtree.Must(t, fs.WalkDir(img, ".", func(p string, d fs.DirEntry, err error) error {
					if err == nil && p != "." {
						listed = append(listed, p)
					}
					return err
				}))
				testtree.Must(t, img.Close())
				if len(listed) != len(files) {
					t.Errorf("ls lists %q, want the %d directories of %v", listed, len(files), files)
				}

				dst := filepath.Join(t.TempDir(), "out")
				got, err := c.Pull(ctx, ref, dst)
				testtree.Must(t, err)
				if got.Digest != desc.Digest {
					t.Fatalf("pulled %s, pushed %s", got.Digest, desc.Digest)
				}
				testtree.Equal(t, src, dst)
				if fi, err := os.Stat(dst); err != nil || !fi.IsDir() {
					t.Fatalf("pull made no directory: %v", err)
				}
			})
		}
	}
}
