package layer

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/containerd/stargz-snapshotter/estargz"
	"github.com/containerd/stargz-snapshotter/estargz/zstdchunked"
	"github.com/klauspost/compress/zstd"

	"github.com/blobber-dev/blobber/internal/compression"
	"github.com/blobber-dev/blobber/internal/toc"
)

// treeNames are the names of fsys's entries but the root, in walk order.
func treeNames(t *testing.T, fsys fs.FS) []string {
	t.Helper()
	var names []string
	err := fs.WalkDir(fsys, ".", func(p string, _ fs.DirEntry, err error) error {
		if p != "." {
			names = append(names, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// decompressed is the whole uncompressed stream of a blob, as gunzip or
// zstd -d gives it (zstd skips the skippable frames of the TOC).
func decompressed(t *testing.T, blob []byte, comp compression.Compression) []byte {
	t.Helper()
	var r io.Reader
	if comp == compression.Zstd {
		d, err := zstd.NewReader(bytes.NewReader(blob))
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		r = d
	} else {
		z, err := gzip.NewReader(bytes.NewReader(blob))
		if err != nil {
			t.Fatal(err)
		}
		r = z
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// A plain tar reader of the layer (archive/tar, GNU tar) sees exactly the
// pushed tree: the tar ends before the TOC member, whose
// stargz.index.json it used to extract, with mode 0000. The eStargz
// readers, estargz's and blobber's, still read the layer.
func TestPlainTarSeesExactlyTheTree(t *testing.T) {
	trees := map[string]fstest.MapFS{
		"sample": sampleTree(),
		"empty":  {},
		"dirs":   {"a": {Mode: fs.ModeDir | 0o755}, "a/b": {Mode: fs.ModeDir | 0o700}},
	}
	for name, tree := range trees {
		for _, comp := range []compression.Compression{compression.Gzip, compression.Zstd} {
			t.Run(name+"-"+string(comp), func(t *testing.T) {
				blob, res := build(t, tree, Options{Compression: comp, ChunkSize: 16 << 10, Workers: 3})
				want := treeNames(t, tree)

				raw := decompressed(t, blob, comp)
				tr := tar.NewReader(bytes.NewReader(raw))
				var got []string
				for {
					h, err := tr.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatalf("archive/tar: %v", err)
					}
					got = append(got, strings.TrimSuffix(h.Name, "/"))
					if h.Typeflag == tar.TypeReg {
						data, err := io.ReadAll(tr)
						if err != nil {
							t.Fatal(err)
						}
						if wantData, _ := fs.ReadFile(tree, h.Name); !bytes.Equal(data, wantData) {
							t.Errorf("%s: archive/tar reads other content", h.Name)
						}
					}
				}
				if !slices.Equal(got, want) {
					t.Errorf("archive/tar reads %q, want %q", got, want)
				}

				var opts []estargz.OpenOption
				if comp == compression.Zstd {
					opts = append(opts, estargz.WithDecompressors(new(zstdchunked.Decompressor)))
				}
				r, err := estargz.Open(io.NewSectionReader(bytes.NewReader(blob), 0, int64(len(blob))), opts...)
				if err != nil {
					t.Fatalf("estargz.Open: %v", err)
				}
				if _, err := r.VerifyTOC(res.TOCDigest); err != nil {
					t.Fatalf("VerifyTOC: %v", err)
				}

				ix, err := toc.Read(context.Background(), bytes.NewReader(blob), int64(len(blob)), comp, res.TOCDigest, toc.Limits{})
				if err != nil {
					t.Fatalf("toc.Read: %v", err)
				}
				var listed []string
				err = ix.Walk(func(e *toc.Entry) error {
					listed = append(listed, e.Name)
					var data []byte
					for _, ch := range e.Chunks() {
						b, err := ix.Fetch(bytes.NewReader(blob), ch, nil)
						if err != nil {
							return err
						}
						data = append(data, b...)
					}
					if wantData, _ := fs.ReadFile(tree, e.Name); e.Type == toc.TypeReg && !bytes.Equal(data, wantData) {
						t.Errorf("%s: blobber reads other content", e.Name)
					}
					return nil
				})
				if err != nil || !slices.Equal(listed, want) {
					t.Errorf("blobber lists %q, want %q: %v", listed, want, err)
				}

				gnuTarExtracts(t, blob, raw, comp, want)
			})
		}
	}
}

// gnuTarExtracts checks that GNU tar, given the layer as a user would
// (tar -xzf, or zstd -d | tar -x), creates exactly want.
func gnuTarExtracts(t *testing.T, blob, raw []byte, comp compression.Compression, want []string) {
	t.Helper()
	if _, err := exec.LookPath("tar"); err != nil {
		t.Log("no tar on PATH: GNU tar not tried")
		return
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("tar", "-xf", "-", "-C", out)
	cmd.Stdin = bytes.NewReader(raw)
	if comp == compression.Gzip {
		layerFile := filepath.Join(dir, "layer.tar.gz")
		if err := os.WriteFile(layerFile, blob, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd = exec.Command("tar", "-xzf", layerFile, "-C", out)
	}
	if msg, err := cmd.CombinedOutput(); err != nil || len(msg) > 0 {
		t.Fatalf("tar: %v: %s", err, msg)
	}
	got := treeNames(t, os.DirFS(out))
	if !slices.Equal(got, want) {
		t.Errorf("GNU tar extracts %q, want %q", got, want)
	}
}
