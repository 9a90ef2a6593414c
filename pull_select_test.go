package blobber_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/containerd/stargz-snapshotter/estargz"
	digest "github.com/opencontainers/go-digest"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	ta "github.com/blobber-dev/blobber/internal/testartifact"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// mixedTree writes a tree like the benchmark's mixed dataset, in small:
// big files, many small ones, and the directory "sel" of 20 files (one in
// a subdirectory) of random bytes, which compress to about their size.
// It returns the tree and the bytes of the files under sel.
func mixedTree(t *testing.T) (string, int64) {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	write := func(name string, data []byte) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		testtree.Must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		testtree.Must(t, os.WriteFile(p, data, 0o644))
	}
	for i := range 3 {
		write(fmt.Sprintf("a-big/%d.bin", i), random(3<<20))
		write(fmt.Sprintf("z-big/%d.bin", i), random(2<<20))
	}
	for i := range 200 {
		write(fmt.Sprintf("many/%03d.txt", i), random(2000+rng.IntN(8000)))
	}
	var selected int64
	for i := range 20 {
		name := fmt.Sprintf("sel/%02d.dat", i)
		if i == 19 {
			name = "sel/sub/last.dat"
		}
		data := random(4000 + rng.IntN(60000))
		selected += int64(len(data))
		write(name, data)
	}
	return dir, selected
}

// Pulling one directory of a bigger tree reads its files' compressed
// bytes, what Open reads (the TOC tail) and little more, in few requests.
func TestSelectivePullReadsOnlyChosenChunks(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	src, selected := mixedTree(t)
	c := newClient(t)
	_, err := c.Push(ctx, reg.Host()+"/select/mixed:v1", os.DirFS(src))
	testtree.Must(t, err)

	// What Open reads (the TOC tail), as the client counts it; the pull
	// goes through a proxy of its own, so no count of another read can lag
	// into its figures.
	img, err := c.Open(ctx, reg.Host()+"/select/mixed:v1")
	testtree.Must(t, err)
	open := img.Stats()
	img.Close()

	dst := filepath.Join(t.TempDir(), "out")
	_, err = c.Pull(ctx, proxy.Host()+"/select/mixed:v1", dst, blobber.WithSelect(blobber.Selection{Paths: []string{"sel"}}))
	testtree.Must(t, err)
	got := proxy.Stats()

	want := testtree.Snapshot(t, filepath.Join(src, "sel"))
	testtree.Equal(t, filepath.Join(src, "sel"), filepath.Join(dst, "sel"))
	entries, err := os.ReadDir(dst)
	testtree.Must(t, err)
	if len(entries) != 1 || len(want) != 21+1 {
		t.Fatalf("pulled %d top-level entries (want sel only); sel holds %d", len(entries), len(want))
	}
	t.Logf("selective pull: %d blob bytes in %d requests; files %d bytes, Open %d bytes in %d requests", got.BlobBytes, got.BlobRequests, selected, open.Bytes, open.Requests)
	limit := open.Bytes + selected + selected/10
	if got.BlobBytes > limit {
		t.Errorf("selective pull read %d bytes of blob; the files hold %d, Open reads %d: want at most %d",
			got.BlobBytes, selected, open.Bytes, limit)
	}
	if extra := got.BlobRequests - open.Requests; extra > 2 {
		t.Errorf("selective pull made %d blob requests beyond Open's %d: the files lie together, want 1 or 2", extra, open.Requests)
	}
}

// A path or include glob that matches nothing fails the pull, naming it
// and leaving nothing behind; AllowEmpty lets it pass.
func TestSelectivePullNoMatch(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	c := newClient(t)
	ref := proxy.Host() + "/select/nomatch:v1"
	_, err := c.Push(ctx, ref, os.DirFS(newTree(t)))
	testtree.Must(t, err)

	dst := filepath.Join(t.TempDir(), "out")
	_, err = c.Pull(ctx, ref, dst, blobber.WithSelect(blobber.Selection{
		Paths: []string{"data", "nope/x"}, Include: []string{"**/*.xyz", "**/*.md"}}))
	if !errors.Is(err, blobber.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	for _, name := range []string{`"nope/x"`, `"**/*.xyz"`} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
	if strings.Contains(err.Error(), `"data"`) || strings.Contains(err.Error(), `"**/*.md"`) {
		t.Errorf("error %q names a path or pattern that matched", err)
	}
	if _, serr := os.Stat(dst); !errors.Is(serr, fs.ErrNotExist) {
		t.Errorf("the failed pull left %s (%v)", dst, serr)
	}

	_, err = c.Pull(ctx, ref, dst, blobber.WithSelect(blobber.Selection{Exclude: []string{"**"}}))
	if !errors.Is(err, blobber.ErrNotFound) {
		t.Fatalf("a selection of nothing: err = %v, want ErrNotFound", err)
	}

	_, err = c.Pull(ctx, ref, dst, blobber.WithSelect(blobber.Selection{
		Paths: []string{"nope"}, Include: []string{"**/*.md"}, AllowEmpty: true}))
	testtree.Must(t, err)
	if got := testtree.Snapshot(t, dst); len(got) != 2 || got["README.md"] == "" {
		t.Errorf("AllowEmpty pulled %v, want README.md only", got)
	}
}

// A glob that is not valid, or a path out of the tree, is refused before
// any request.
func TestSelectivePullInvalidSelection(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	c := newClient(t)
	ref := proxy.Host() + "/select/invalid:v1"
	for _, s := range []blobber.Selection{
		{Include: []string{"a/[b"}},
		{Exclude: []string{"{x"}},
		{Paths: []string{"../etc"}},
	} {
		_, err := c.Pull(context.Background(), ref, t.TempDir(), blobber.WithSelect(s))
		if !errors.Is(err, blobber.ErrInvalidOption) {
			t.Errorf("%+v: err = %v, want ErrInvalidOption", s, err)
		}
	}
	_, err := c.Pull(context.Background(), ref, t.TempDir(),
		blobber.WithSelect(blobber.Selection{Paths: []string{"a"}}), blobber.WithDereferenceLinks())
	if !errors.Is(err, blobber.ErrInvalidOption) {
		t.Errorf("WithSelect and WithDereferenceLinks: err = %v, want ErrInvalidOption", err)
	}
	if n := proxy.Stats().Requests; n != 0 {
		t.Errorf("%d requests before refusing the options", n)
	}
}

// The directories between DIR and a chosen file take the artifact's
// modes, and only they are created.
func TestSelectivePullParentsModes(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	src := t.TempDir()
	testtree.WriteEntries(t, src, map[string]testtree.Entry{
		"a":             {Mode: fs.ModeDir | 0o750},
		"a/b":           {Mode: fs.ModeDir | 0o711},
		"a/b/c.txt":     {Content: "c", Mode: 0o600},
		"a/b/other.txt": {Content: "other"},
		"a/x.txt":       {Content: "x"},
	})
	c := newClient(t)
	ref := proxy.Host() + "/select/parents:v1"
	_, err := c.Push(ctx, ref, os.DirFS(src))
	testtree.Must(t, err)
	dst := filepath.Join(t.TempDir(), "out")
	_, err = c.Pull(ctx, ref, dst, blobber.WithSelect(blobber.Selection{Paths: []string{"./a/b/c.txt"}}))
	testtree.Must(t, err)
	got := testtree.Snapshot(t, dst)
	want := map[string]string{
		".":         got["."],
		"a":         "drwxr-x---",
		"a/b":       "drwx--x--x",
		"a/b/c.txt": `-rw------- "c"`,
	}
	if diff := testtree.Diff(want, got); len(diff) > 0 {
		t.Errorf("pulled tree differs:\n%s", strings.Join(diff, "\n"))
	}
}

// Globs match across directories; exclusions win; a hardlink whose target
// is not chosen still gets its content, and one whose target is chosen is
// a link to it.
func TestSelectivePullPatternsAndLinks(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	blob, tocDigest, diffID, err := ta.EStargz(ta.Tar(
		ta.Dir("docs/"),
		ta.File("docs/guide.md", "guide", 0o644),
		ta.File("docs/deep/er/notes.md", "notes", 0o644),
		ta.File("docs/deep/er/skip.md", "skip", 0o644),
		ta.File("src/main.go", "package main", 0o644),
		ta.File("src/README.md", "src readme", 0o644),
		ta.Hardlink("docs/deep/copy.md", "src/main.go"),
		ta.Hardlink("docs/guide-again.md", "docs/guide.md"),
		ta.Symlink("docs/to-src", "../src"),
	))
	testtree.Must(t, err)
	repo, ref := hostileRepo(t, reg.Host(), "patterns")
	_, err = ta.New(blob, tocDigest, diffID).Push(ctx, repo, "v1")
	testtree.Must(t, err)
	c := newClient(t)
	dst := filepath.Join(t.TempDir(), "out")
	_, err = c.Pull(ctx, ref+":v1", dst, blobber.WithSelect(blobber.Selection{
		Include: []string{"**/*.md", "docs/to-*"},
		Exclude: []string{"**/skip.md", "src"},
	}))
	testtree.Must(t, err)
	got := testtree.Snapshot(t, dst)
	want := map[string]string{
		".":                     got["."],
		"docs":                  got["docs"],
		"docs/guide.md":         `-rw-r--r-- "guide"`,
		"docs/guide-again.md":   `-rw-r--r-- "guide"`,
		"docs/deep":             got["docs/deep"],
		"docs/deep/copy.md":     `-rw-r--r-- "package main"`,
		"docs/deep/er":          got["docs/deep/er"],
		"docs/deep/er/notes.md": `-rw-r--r-- "notes"`,
		"docs/to-src":           "Lrwxrwxrwx -> ../src",
	}
	if diff := testtree.Diff(want, got); len(diff) > 0 {
		t.Fatalf("pulled tree differs:\n%s", strings.Join(diff, "\n"))
	}
	a, err := os.Stat(filepath.Join(dst, "docs/guide.md"))
	testtree.Must(t, err)
	b, err := os.Stat(filepath.Join(dst, "docs/guide-again.md"))
	testtree.Must(t, err)
	if !os.SameFile(a, b) {
		t.Error("docs/guide-again.md is not a hardlink to docs/guide.md")
	}
}

// A chunk of a chosen file that does not match its digest fails the pull,
// which leaves nothing behind, even the files that verified.
func TestSelectivePullCorruptChunk(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	blob, _, _, err := ta.EStargz(ta.Tar(
		ta.File("keep/a.txt", strings.Repeat("a", 3000), 0o644),
		ta.File("keep/b.txt", strings.Repeat("b", 3000), 0o644),
		ta.File("other.txt", "other", 0o644),
	))
	testtree.Must(t, err)
	blob, tocDigest, err := ta.RewriteTOC(blob, func(toc *estargz.JTOC) {
		ta.Find(toc, "keep/b.txt").ChunkDigest = digest.FromString("not b").String()
	})
	testtree.Must(t, err)
	diffID, err := ta.DiffID(blob)
	testtree.Must(t, err)
	repo, ref := hostileRepo(t, reg.Host(), "corrupt")
	_, err = ta.New(blob, tocDigest, diffID).Push(ctx, repo, "v1")
	testtree.Must(t, err)

	for _, existing := range []bool{false, true} {
		dst := filepath.Join(t.TempDir(), "out")
		if existing {
			testtree.Write(t, dst, map[string]string{"mine": "mine"})
		}
		before := testtree.Snapshot(t, filepath.Dir(dst))
		_, err = newClient(t).Pull(ctx, ref+":v1", dst, blobber.WithSelect(blobber.Selection{Paths: []string{"keep"}}))
		if !errors.Is(err, blobber.ErrDigestMismatch) {
			t.Fatalf("existing=%v: err = %v, want ErrDigestMismatch", existing, err)
		}
		if !strings.Contains(err.Error(), "keep/b.txt") {
			t.Errorf("error %q does not name keep/b.txt", err)
		}
		testtree.Unchanged(t, "target's parent", before, testtree.Snapshot(t, filepath.Dir(dst)))
	}
}

// Push's exclusions and pull's selections read a pattern the same way:
// excluding the same globs from a push and from a pull of everything
// gives the same tree.
func TestExcludeMatchesTheSameOnPushAndPull(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	src := t.TempDir()
	testtree.Write(t, src, map[string]string{
		"app.log":           "log",
		"a/b/c/deep.log":    "deep",
		"a/keep.txt":        "keep",
		"cache/x/y.bin":     "y",
		"cache.txt":         "not the directory",
		"a/cache/inner.txt": "inner",
	})
	patterns := []string{"**/*.log", "cache", "a/*/inner.txt"}
	c := newClient(t)
	full := reg.Host() + "/select/full:v1"
	_, err := c.Push(ctx, full, os.DirFS(src))
	testtree.Must(t, err)
	pruned := reg.Host() + "/select/pruned:v1"
	_, err = c.Push(ctx, pruned, os.DirFS(src), blobber.WithExclude(patterns...))
	testtree.Must(t, err)

	fromPush := filepath.Join(t.TempDir(), "push")
	_, err = c.Pull(ctx, pruned, fromPush)
	testtree.Must(t, err)
	fromPull := filepath.Join(t.TempDir(), "pull")
	_, err = c.Pull(ctx, full, fromPull, blobber.WithSelect(blobber.Selection{Exclude: patterns}))
	testtree.Must(t, err)
	testtree.Equal(t, fromPush, fromPull)
	want := map[string]string{".": "", "a": "", "a/b": "", "a/b/c": "", "a/keep.txt": "", "a/cache": "", "cache.txt": ""}
	got := testtree.Snapshot(t, fromPull)
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s was not excluded", name)
		}
	}
	if len(got) != len(want) {
		t.Errorf("pulled %d entries, want %d: %v", len(got), len(want), got)
	}
}

// Entries a pull refuses (a FIFO, a link out of the tree) stop a
// selective pull only when it would write them.
func TestSelectivePullJudgesOnlyWhatItWrites(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	blob, tocDigest, diffID, err := ta.EStargz(ta.Tar(
		ta.File("ok/a.txt", "a", 0o644),
		ta.Fifo("dev/pipe"),
		ta.Symlink("dev/out", "../../etc/passwd"),
	))
	testtree.Must(t, err)
	repo, ref := hostileRepo(t, reg.Host(), "partly-refused")
	_, err = ta.New(blob, tocDigest, diffID).Push(ctx, repo, "v1")
	testtree.Must(t, err)
	c := newClient(t)
	dst := filepath.Join(t.TempDir(), "out")
	_, err = c.Pull(ctx, ref+":v1", dst, blobber.WithSelect(blobber.Selection{Paths: []string{"ok"}}))
	testtree.Must(t, err)
	_, err = c.Pull(ctx, ref+":v1", filepath.Join(t.TempDir(), "dev"), blobber.WithSelect(blobber.Selection{Include: []string{"dev/*"}}))
	if !errors.Is(err, blobber.ErrUnsupportedEntry) || !errors.Is(err, blobber.ErrPathTraversal) {
		t.Fatalf("pulling dev: err = %v, want both refusals", err)
	}
}

// Progress of a selective pull counts the bytes of its range requests,
// and ends at the total it announced.
func TestSelectivePullProgress(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	var mu sync.Mutex
	var done, total int64
	c := newClient(t, blobber.WithProgress(func(phase string, d, tot int64) {
		if phase == "download" {
			mu.Lock()
			done, total = max(done, d), tot
			mu.Unlock()
		}
	}))
	ref := reg.Host() + "/select/progress:v1"
	_, err := c.Push(ctx, ref, os.DirFS(newTree(t)))
	testtree.Must(t, err)
	_, err = c.Pull(ctx, ref, filepath.Join(t.TempDir(), "out"), blobber.WithSelect(blobber.Selection{Paths: []string{"data"}}))
	testtree.Must(t, err)
	if total == 0 || done != total {
		t.Errorf("download progress ended at %d of %d", done, total)
	}
}

// A selective pull reads through the cache as cat does: pulled again, its
// chunks come from the cache.
func TestSelectivePullThroughTheCache(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	cacheDir := t.TempDir()
	c := newClient(t, blobber.WithCache(cacheDir))
	ref := proxy.Host() + "/select/cached:v1"
	_, err := c.Push(ctx, ref, os.DirFS(newTree(t)))
	testtree.Must(t, err)
	sel := blobber.WithSelect(blobber.Selection{Paths: []string{"data"}})
	_, err = c.Pull(ctx, ref, filepath.Join(t.TempDir(), "first"), sel)
	testtree.Must(t, err)

	proxy.Reset()
	again := filepath.Join(t.TempDir(), "again")
	_, err = c.Pull(ctx, ref, again, sel)
	testtree.Must(t, err)
	if s := proxy.Stats(); s.BlobBytes != 0 {
		t.Errorf("pulling the same selection again read %d blob bytes, want 0 (all from the cache)", s.BlobBytes)
	}
	testtree.Equal(t, filepath.Join(newTree(t), "data"), filepath.Join(again, "data"))
}
