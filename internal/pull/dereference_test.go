package pull

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"

	"github.com/blobber-dev/blobber/internal/compression"
	"github.com/blobber-dev/blobber/internal/errdef"
	"github.com/blobber-dev/blobber/internal/extract"
	"github.com/blobber-dev/blobber/internal/testartifact"
	"github.com/blobber-dev/blobber/internal/toc"
)

// layerOf builds an eStargz layer holding names, a trailing slash making a
// directory, "name -> target" a symlink and "name => target" a hard link,
// and reads its TOC back.
func layerOf(t *testing.T, names ...string) Artifact {
	t.Helper()
	b := testartifact.NewBuilder()
	for _, n := range names {
		h := &tar.Header{Name: n, Typeflag: tar.TypeReg, Mode: 0o644}
		var content []byte
		switch {
		case strings.HasSuffix(n, "/"):
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
		case strings.Contains(n, " -> "):
			h.Name, h.Linkname, _ = strings.Cut(n, " -> ")
			h.Typeflag = tar.TypeSymlink
		case strings.Contains(n, " => "):
			h.Name, h.Linkname, _ = strings.Cut(n, " => ")
			h.Typeflag = tar.TypeLink
		default:
			content = []byte("data of " + n)
			h.Size = int64(len(content))
		}
		if err := b.Add(h, content); err != nil {
			t.Fatal(err)
		}
	}
	blob, tocDigest, _, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	ix, err := toc.Read(context.Background(), bytes.NewReader(blob), int64(len(blob)), compression.Gzip, tocDigest, toc.Limits{MaxEntries: 100, MaxBytes: 1 << 20, MaxTOCBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return Artifact{Index: ix, Layers: []Layer{{Data: bytes.NewReader(blob), Digest: digest.FromBytes(blob), Size: int64(len(blob))}}}
}

func pullDereferenced(t *testing.T, maxEntries int, names ...string) (string, error) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	d, err := extract.Open(out, extract.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = Into(context.Background(), d, layerOf(t, names...), Options{Concurrency: 2, DereferenceLinks: true, MaxEntries: maxEntries})
	if err != nil {
		d.Abort()
		return out, err
	}
	return out, d.Commit()
}

// With DereferenceLinks, a pull writes no symlink: a link to a file holds
// that file's content, a link to a directory is a directory holding the
// same, links inside it included.
func TestDereferenceLinks(t *testing.T) {
	out, err := pullDereferenced(t, 100,
		"d/", "d/f", "d/g => d/f", "d/sub/", "d/sub/up -> ../f",
		"file-link -> d/f", "dir-link -> d", "chain -> dir-link/sub/up")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"file-link": "data of d/f", "chain": "data of d/f",
		"dir-link/f": "data of d/f", "dir-link/g": "data of d/f", "dir-link/sub/up": "data of d/f",
		"d/sub/up": "data of d/f",
	} {
		p := filepath.Join(out, filepath.FromSlash(name))
		fi, err := os.Lstat(p)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !fi.Mode().IsRegular() {
			t.Errorf("%s is %v, want a regular file", name, fi.Mode())
		}
		if got, _ := os.ReadFile(p); string(got) != want {
			t.Errorf("%s holds %q, want %q", name, got, want)
		}
	}
	if fi, err := os.Lstat(filepath.Join(out, "dir-link")); err != nil || !fi.IsDir() {
		t.Errorf("dir-link: %v, %v; want a directory", fi, err)
	}
}

// A link that leads to nothing is refused before anything is written; a
// link into its own parents, and links that multiply past the entry limit,
// fail the pull, which leaves nothing.
func TestDereferenceLinksRefusals(t *testing.T) {
	for _, c := range []struct {
		name  string
		max   int
		names []string
		want  error
	}{
		{"dangling", 100, []string{"a", "l -> missing"}, errdef.ErrUnsupportedEntry},
		{"loop", 100, []string{"d/", "d/f", "d/up -> .."}, errdef.ErrUnsupportedEntry},
		{"doubling", 20, []string{"a/", "a/f", "b/", "b/x -> ../a", "b/y -> ../a", "c/", "c/x -> ../b", "c/y -> ../b", "e/", "e/x -> ../c", "e/y -> ../c"}, errdef.ErrLimitExceeded},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := pullDereferenced(t, c.max, c.names...)
			if !errors.Is(err, c.want) {
				t.Fatalf("pull: %v, want %v", err, c.want)
			}
			if _, serr := os.Lstat(out); serr == nil {
				t.Errorf("the failed pull left %s", out)
			}
		})
	}
}
