package blobber_test

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"oras.land/oras-go/v2/registry/remote"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	ta "github.com/blobber-dev/blobber/internal/testartifact"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// pushLayered pushes an artifact of one eStargz layer per group of
// entries to host/layers/<name>:v1 and returns its reference.
func pushLayered(t *testing.T, host, name string, o ta.Options, groups ...[]ta.Entry) string {
	t.Helper()
	ctx := context.Background()
	var layers []ta.Layer
	for _, g := range groups {
		l, err := ta.NewLayerWith(o, g...)
		testtree.Must(t, err)
		layers = append(layers, l)
	}
	ref := host + "/layers/" + name
	repo, err := remote.NewRepository(ref)
	testtree.Must(t, err)
	repo.PlainHTTP = true
	if _, err := ta.PushLayers(ctx, repo, "v1", layers...); err != nil {
		t.Fatal(err)
	}
	return ref + ":v1"
}

// layeredTree is a tree of files spread over layers, and what each file
// holds.
type layeredTree struct {
	groups [][]ta.Entry
	files  map[string]string
}

func (lt *layeredTree) layer(files map[string]string, extra ...ta.Entry) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	entries := extra
	for _, n := range names {
		entries = append(entries, ta.File(n, files[n], 0o644))
		lt.files[n] = files[n]
	}
	lt.groups = append(lt.groups, entries)
}

func newLayeredTree() *layeredTree { return &layeredTree{files: map[string]string{}} }

// The readers of an Image (fs.FS, WriteFileTo, Pull) see the merged tree
// of an artifact of several layers, each file's bytes read from the layer
// that holds them, with and without a cache.
func TestLayersRead(t *testing.T) {
	reg := registrytest.Start(t)
	big := strings.Repeat("0123456789abcdef", 40000) // several chunks
	cases := map[string]func() *layeredTree{
		"two-layers": func() *layeredTree {
			lt := newLayeredTree()
			lt.layer(map[string]string{"a.txt": "alpha\n", "dir/b.txt": "bravo\n"}, ta.Dir("dir"))
			lt.layer(map[string]string{"dir/c.bin": big, "z/last": "zulu"}, ta.Dir("dir"))
			return lt
		},
		"one-layer-per-file": func() *layeredTree {
			lt := newLayeredTree()
			for i := range 12 {
				lt.layer(map[string]string{fmt.Sprintf("d%d/f%02d", i%3, i): strings.Repeat(fmt.Sprint(i), 100*i+1)})
			}
			return lt
		},
		"hundreds-of-layers": func() *layeredTree {
			lt := newLayeredTree()
			for i := range 200 {
				lt.layer(map[string]string{fmt.Sprintf("part/%03d", i): fmt.Sprintf("layer %d\n", i)})
			}
			return lt
		},
	}
	for name, build := range cases {
		for _, zstd := range []bool{false, true} {
			if zstd && name == "hundreds-of-layers" {
				continue // the layout is the same; one compression is enough for the count
			}
			for _, cached := range []bool{false, true} {
				if cached && name == "hundreds-of-layers" {
					continue
				}
				t.Run(fmt.Sprintf("%s/zstd=%v/cache=%v", name, zstd, cached), func(t *testing.T) {
					lt := build()
					ref := pushLayered(t, reg.Host(), fmt.Sprintf("%s-%v", name, zstd), ta.Options{Zstd: zstd, ChunkSize: 64 << 10}, lt.groups...)
					var opts []blobber.Option
					if cached {
						opts = append(opts, blobber.WithCache(t.TempDir()))
					}
					checkLayered(t, newClient(t, opts...), ref, lt)
				})
			}
		}
	}
}

func checkLayered(t *testing.T, c *blobber.Client, ref string, lt *layeredTree) {
	t.Helper()
	ctx := context.Background()
	img, err := c.Open(ctx, ref)
	testtree.Must(t, err)
	defer img.Close()
	var names []string
	for n, want := range lt.files {
		names = append(names, n)
		got, err := img.ReadFile(n)
		testtree.Must(t, err)
		if string(got) != want {
			t.Fatalf("ReadFile(%s): %d bytes, want %d", n, len(got), len(want))
		}
	}
	if len(names) <= 20 {
		// TestFS reads every file many times over: on a tree of many
		// files, the reads above are enough.
		testtree.Must(t, fstest.TestFS(img, names...))
	}
	for n, want := range lt.files {
		var sb strings.Builder
		if _, err := img.WriteFileTo(&sb, n); err != nil || sb.String() != want {
			t.Fatalf("WriteFileTo(%s): %d bytes, %v", n, sb.Len(), err)
		}
	}
	if st := img.Stats(); st.LayerSize <= 0 {
		t.Errorf("Stats: %+v", st)
	}
	dst := filepath.Join(t.TempDir(), "out")
	_, err = c.Pull(ctx, ref, dst)
	testtree.Must(t, err)
	got := map[string]string{}
	testtree.Must(t, filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dst, p)
		got[filepath.ToSlash(rel)] = string(b)
		return err
	}))
	if len(got) != len(lt.files) {
		t.Fatalf("pulled %d files, want %d", len(got), len(lt.files))
	}
	for n, want := range lt.files {
		if got[n] != want {
			t.Fatalf("pulled %s: %d bytes, want %d", n, len(got[n]), len(want))
		}
	}
}

// A path is in one layer only: a file (or a file and a directory) in two
// layers is refused as malformed; a directory in several merges when its
// mode and time agree, or when a layer leaves it implicit.
func TestLayersOverlap(t *testing.T) {
	reg := registrytest.Start(t)
	when := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	dirAt := func(name string, mode int64, at time.Time) ta.Entry {
		return ta.Raw(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode, ModTime: at}, nil)
	}
	f := func(name, content string) ta.Entry { return ta.File(name, content, 0o644) }
	cases := []struct {
		name   string
		groups [][]ta.Entry
		refuse bool
		files  []string
	}{
		{name: "same-file", groups: [][]ta.Entry{{f("a", "1")}, {f("a", "2")}}, refuse: true},
		{name: "same-file-in-dir", groups: [][]ta.Entry{{ta.Dir("d"), f("d/a", "1")}, {ta.Dir("d"), f("d/a", "1")}}, refuse: true},
		{name: "file-and-dir", groups: [][]ta.Entry{{f("a", "1")}, {ta.Dir("a"), f("a/b", "2")}}, refuse: true},
		{name: "symlink-and-file", groups: [][]ta.Entry{{ta.Symlink("a", "b")}, {f("a", "2")}}, refuse: true},
		{name: "dir-other-mode", groups: [][]ta.Entry{{dirAt("d", 0o755, when), f("d/a", "1")}, {dirAt("d", 0o700, when), f("d/b", "2")}}, refuse: true},
		{name: "dir-other-time", groups: [][]ta.Entry{{dirAt("d", 0o755, when), f("d/a", "1")}, {dirAt("d", 0o755, when.Add(time.Hour)), f("d/b", "2")}}, refuse: true},
		{name: "root-other-mode", groups: [][]ta.Entry{{dirAt("./", 0o755, when), f("a", "1")}, {dirAt("./", 0o700, when), f("b", "2")}}, refuse: true},
		{name: "dir-same", groups: [][]ta.Entry{{dirAt("d", 0o750, when), f("d/a", "1")}, {dirAt("d", 0o750, when), f("d/b", "2"), dirAt("d/e", 0o755, when), f("d/e/c", "3")}},
			files: []string{"d/a", "d/b", "d/e/c"}},
		{name: "dir-implicit", groups: [][]ta.Entry{{dirAt("d", 0o750, when), f("d/a", "1")}, {f("d/b", "2")}, {f("d/x/y", "3")}},
			files: []string{"d/a", "d/b", "d/x/y"}},
		{name: "repeated-layer", groups: [][]ta.Entry{{f("a", "1")}, {f("a", "1")}}, refuse: true},
	}
	c := newClient(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ref := pushLayered(t, reg.Host(), tc.name, ta.Options{}, tc.groups...)
			img, err := c.Open(context.Background(), ref)
			if tc.refuse {
				if !errors.Is(err, blobber.ErrNotEStargz) {
					t.Fatalf("Open: %v, want ErrNotEStargz", err)
				}
				_, err = c.Pull(context.Background(), ref, t.TempDir())
				if !errors.Is(err, blobber.ErrNotEStargz) {
					t.Fatalf("Pull: %v, want ErrNotEStargz", err)
				}
				return
			}
			testtree.Must(t, err)
			defer img.Close()
			testtree.Must(t, fstest.TestFS(img, tc.files...))
			fi, err := img.Stat("d")
			testtree.Must(t, err)
			if fi.Mode().Perm() != 0o750 || !fi.ModTime().Equal(when) {
				t.Errorf("merged d is %v %v, want 0750 %v", fi.Mode(), fi.ModTime(), when)
			}
		})
	}
}

// Listing an artifact of several layers reads each layer's TOC tail once,
// all of them in parallel, and nothing else of the layers.
func TestLayersListRequests(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	for _, n := range []int{1, 2, 40} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			lt := newLayeredTree()
			for i := range n {
				lt.layer(map[string]string{fmt.Sprintf("f/%03d", i): strings.Repeat("x", 1000*i)})
			}
			ref := pushLayered(t, proxy.Host(), fmt.Sprintf("count-%d", n), ta.Options{}, lt.groups...)
			c := newClient(t)
			proxy.Reset()
			img, err := c.Open(context.Background(), ref)
			testtree.Must(t, err)
			defer img.Close()
			entries, err := img.ReadDir("f")
			testtree.Must(t, err)
			if len(entries) != n {
				t.Fatalf("%d entries, want %d", len(entries), n)
			}
			st, ps := img.Stats(), proxy.Stats()
			if st.Requests != int64(n) {
				t.Errorf("%d layer reads for %d layers, want one each", st.Requests, n)
			}
			if ps.BlobRequests != int64(n) {
				t.Errorf("%d blob requests to the registry for %d layers, want one each", ps.BlobRequests, n)
			}
		})
	}
}

// Inspect describes every layer of an artifact of several, and counts the
// files of the merged tree.
func TestLayersInspect(t *testing.T) {
	reg := registrytest.Start(t)
	lt := newLayeredTree()
	lt.layer(map[string]string{"a": "alpha", "d/b": "bravo"}, ta.Dir("d"))
	lt.layer(map[string]string{"d/c": "charlie!"})
	ref := pushLayered(t, reg.Host(), "inspect", ta.Options{}, lt.groups...)
	in, err := newClient(t).Inspect(context.Background(), ref)
	testtree.Must(t, err)
	if in.NotReadable != nil || in.Files != 3 || in.TotalSize != 18 || len(in.Layers) != 2 {
		t.Fatalf("inspect: readable %v, %d files, %d bytes, %d layers", in.NotReadable, in.Files, in.TotalSize, len(in.Layers))
	}
	for i, want := range []int64{10, 8} {
		if l := in.Layers[i]; l.UncompressedSize != want || l.UncompressedSizeFrom != "files" || l.TOCDigest == "" {
			t.Errorf("layer %d: %d bytes from %q, TOC %q", i, l.UncompressedSize, l.UncompressedSizeFrom, l.TOCDigest)
		}
	}
}

// The limits hold for the merged tree: layers each within them, but over
// them together, are refused (ErrLimitExceeded), entries and bytes alike.
func TestLayersLimits(t *testing.T) {
	reg := registrytest.Start(t)
	lt := newLayeredTree()
	for i := range 4 {
		lt.layer(map[string]string{fmt.Sprintf("f%d", i): "0123456789"})
	}
	ref := pushLayered(t, reg.Host(), "limits", ta.Options{}, lt.groups...)
	for _, l := range []blobber.Limits{{MaxFiles: 3}, {MaxBytes: 35}} {
		_, err := newClient(t, blobber.WithLimits(l)).Open(context.Background(), ref)
		if !errors.Is(err, blobber.ErrLimitExceeded) {
			t.Errorf("%+v: %v, want ErrLimitExceeded", l, err)
		}
	}
	img, err := newClient(t, blobber.WithLimits(blobber.Limits{MaxFiles: 4, MaxBytes: 40})).Open(context.Background(), ref)
	testtree.Must(t, err)
	img.Close()
}
