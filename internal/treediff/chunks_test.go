package treediff

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/stargz-snapshotter/estargz"

	"github.com/blobber-dev/blobber/internal/compression"
	"github.com/blobber-dev/blobber/internal/testartifact"
	"github.com/blobber-dev/blobber/internal/testtree"
	"github.com/blobber-dev/blobber/internal/toc"
)

// indexOf builds an eStargz blob of files (name → content) cut into
// chunks of chunkSize, with or without the whole-file digests of files of
// several chunks, and reads its TOC as blobber does.
func indexOf(t *testing.T, files map[string]string, chunkSize int, wholeDigests bool) *toc.Index {
	t.Helper()
	var entries []testartifact.Entry
	for _, name := range []string{"big.txt", "small.txt"} {
		if content, ok := files[name]; ok {
			entries = append(entries, testartifact.File(name, content, 0o644))
		}
	}
	blob, tocDigest, _, err := testartifact.EStargzWith(testartifact.Tar(entries...), testartifact.Options{ChunkSize: chunkSize})
	testtree.Must(t, err)
	if !wholeDigests {
		blob, tocDigest, err = testartifact.RewriteTOC(blob, func(j *estargz.JTOC) {
			for _, e := range j.Entries {
				if e.Type == "reg" && e.ChunkSize > 0 {
					e.Digest = "" // another producer's TOC: chunk digests alone
				}
			}
		})
		testtree.Must(t, err)
	}
	ix, err := toc.Read(context.Background(), bytes.NewReader(blob), int64(len(blob)), compression.Gzip, tocDigest, toc.Limits{})
	testtree.Must(t, err)
	return ix
}

func kinds(r *Result) string {
	var s []string
	for _, c := range r.Changes {
		s = append(s, string(c.Kind)+" "+c.Path)
	}
	return strings.Join(s, ", ")
}

// TestCompareFallsBackToChunks: without whole-file digests, the same
// chunks are the same content, other bytes in the same chunks a change,
// and chunks cut elsewhere a change too (nothing read proves otherwise);
// with the digests, chunks cut elsewhere are the same content.
func TestCompareFallsBackToChunks(t *testing.T) {
	ctx := context.Background()
	big := strings.Repeat("0123456789", 3000)
	other := strings.Replace(big, "0123", "abcd", 1)
	files := map[string]string{"big.txt": big, "small.txt": "s"}
	a := indexOf(t, files, 4096, false)
	if d, _ := a.FileDigest(mustLookup(t, a, "big.txt")); d != "" {
		t.Fatalf("the test's TOC still gives big.txt a digest: %s", d)
	}
	for _, tc := range []struct {
		name string
		b    *toc.Index
		want string
	}{
		{"same chunks", indexOf(t, files, 4096, false), ""},
		{"other bytes", indexOf(t, map[string]string{"big.txt": other, "small.txt": "s"}, 4096, false), "M big.txt"},
		{"chunks cut elsewhere", indexOf(t, files, 8192, false), "M big.txt"},
	} {
		r, err := Compare(ctx, a, tc.b)
		testtree.Must(t, err)
		if got := kinds(r); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	r, err := Compare(ctx, indexOf(t, files, 4096, true), indexOf(t, files, 8192, true))
	testtree.Must(t, err)
	if !r.Identical() {
		t.Errorf("with whole-file digests, chunks cut elsewhere: %q, want identical", kinds(r))
	}
}

// TestCompareDirHashesChunks: against a directory, a file the TOC gives
// no whole-file digest is hashed chunk by chunk against its chunks.
func TestCompareDirHashesChunks(t *testing.T) {
	ctx := context.Background()
	big := strings.Repeat("0123456789", 3000)
	ix := indexOf(t, map[string]string{"big.txt": big, "small.txt": "s"}, 4096, false)
	for _, tc := range []struct {
		content, want string
	}{
		{big, ""},
		{strings.Replace(big, "9", "x", 1), "M big.txt"},
	} {
		dir := t.TempDir()
		testtree.Write(t, dir, map[string]string{"big.txt": tc.content, "small.txt": "s"})
		root, err := os.OpenRoot(dir)
		testtree.Must(t, err)
		r, err := CompareDir(ctx, ix, rootTree{root.FS(), root}, DirOptions{})
		root.Close()
		testtree.Must(t, err)
		if got := kinds(r); got != tc.want || r.Hashed != 2 {
			t.Errorf("%q, %d hashed; want %q, 2 hashed", got, r.Hashed, tc.want)
		}
	}
}

func mustLookup(t *testing.T, ix *toc.Index, name string) *toc.Entry {
	e, ok := ix.Lookup(name)
	if !ok {
		t.Fatalf("no %s", name)
	}
	return e
}

// rootTree is a LocalTree over an os.Root, as the root package's Tree.
type rootTree struct {
	fs.FS
	root *os.Root
}

func (r rootTree) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(r.FS, name) }
func (r rootTree) Lstat(name string) (fs.FileInfo, error)     { return fs.Lstat(r.FS, name) }
func (r rootTree) ReadLink(name string) (string, error)       { return fs.ReadLink(r.FS, name) }
func (r rootTree) OpenRegular(name string) (fs.File, error) {
	return r.root.Open(filepath.FromSlash(name))
}
