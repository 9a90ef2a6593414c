package blobber_test

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// diffV1 and diffV2 differ by one change of every kind; same.txt and the
// file of several chunks, big.bin, are the same in both.
func diffV1() map[string]testtree.Entry {
	return map[string]testtree.Entry{
		"same.txt":     {Content: "same"},
		"big.bin":      {Content: randomText(3, 20000)},
		"old.txt":      {Content: "deleted"},
		"gone/":        {Mode: fs.ModeDir},
		"gone/x.txt":   {Content: "x"},
		"mod.txt":      {Content: "version 1"},
		"grow.txt":     {Content: "short"},
		"f2d":          {Content: "a file"},
		"f2l":          {Content: "a file"},
		"run.sh":       {Content: "#!/bin/sh\n", Mode: 0o644},
		"ln":           {Mode: fs.ModeSymlink, Content: "same.txt"},
		"sub/":         {Mode: fs.ModeDir},
		"sub/keep.txt": {Content: "keep"},
	}
}

func diffV2() map[string]testtree.Entry {
	v := diffV1()
	delete(v, "old.txt")
	delete(v, "gone/")
	delete(v, "gone/x.txt")
	delete(v, "f2d")
	v["new.txt"] = testtree.Entry{Content: "added"}
	v["mod.txt"] = testtree.Entry{Content: "version 2"}
	v["grow.txt"] = testtree.Entry{Content: "longer now"}
	v["f2d/"] = testtree.Entry{Mode: fs.ModeDir}
	v["f2d/in.txt"] = testtree.Entry{Content: "in"}
	v["f2l"] = testtree.Entry{Mode: fs.ModeSymlink, Content: "same.txt"}
	v["run.sh"] = testtree.Entry{Content: "#!/bin/sh\n", Mode: 0o755}
	v["ln"] = testtree.Entry{Mode: fs.ModeSymlink, Content: "sub/keep.txt"}
	return v
}

// wantV1toV2 is the diff of diffV1 to diffV2, one line a change as
// describeChange writes them.
var wantV1toV2 = []string{
	"T f2d",
	"A f2d/in.txt",
	"T f2l",
	"D gone",
	"D gone/x.txt",
	"M grow.txt content",
	"M ln content target",
	"M mod.txt content",
	"A new.txt",
	"D old.txt",
	"M run.sh mode",
}

func randomText(seed uint64, n int) string {
	rng := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(rng.IntN(26))
	}
	return string(b)
}

// describeChange is a change in a line: kind, path and what changed.
func describeChange(c blobber.Change) string {
	s := string(c.Kind) + " " + c.Path
	if c.Kind == blobber.ChangeModified {
		if c.ContentChanged {
			s += " content"
		}
		if c.TargetChanged {
			s += " target"
		}
		if c.ModeChanged {
			s += " mode"
		}
	}
	return s
}

func describeDiff(d *blobber.Diff) []string {
	var out []string
	for _, c := range d.Changes {
		out = append(out, describeChange(c))
	}
	return out
}

func pushEntries(t *testing.T, c *blobber.Client, ref string, entries map[string]testtree.Entry, opts ...blobber.PushOption) {
	t.Helper()
	dir := t.TempDir()
	testtree.WriteEntries(t, dir, entries)
	_, err := c.Push(context.Background(), ref, os.DirFS(dir), opts...)
	testtree.Must(t, err)
}

// TestDiffEveryKind: every kind of change between two versions, each
// reported once, in ls's order, with its sizes and digests.
func TestDiffEveryKind(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	c := newClient(t)
	repo := reg.Host() + "/diff/kinds"
	pushEntries(t, c, repo+":v1", diffV1(), blobber.WithChunkSize(4096))
	pushEntries(t, c, repo+":v2", diffV2(), blobber.WithChunkSize(4096))

	d, err := c.Diff(ctx, repo+":v1", repo+":v2")
	testtree.Must(t, err)
	if got, want := describeDiff(d), wantV1toV2; !slices.Equal(got, want) {
		t.Fatalf("diff v1 v2:\n got %q\nwant %q", got, want)
	}
	byPath := map[string]blobber.Change{}
	for _, ch := range d.Changes {
		byPath[ch.Path] = ch
	}
	if ch := byPath["f2d"]; ch.Old.Type != "file" || ch.New.Type != "dir" {
		t.Errorf("f2d: %s -> %s, want file -> dir", ch.Old.Type, ch.New.Type)
	}
	if ch := byPath["f2l"]; ch.Old.Type != "file" || ch.New.Type != "symlink" || ch.New.Target != "same.txt" {
		t.Errorf("f2l: %+v -> %+v, want file -> symlink to same.txt", ch.Old, ch.New)
	}
	if ch := byPath["ln"]; ch.Old.Target != "same.txt" || ch.New.Target != "sub/keep.txt" {
		t.Errorf("ln: target %q -> %q", ch.Old.Target, ch.New.Target)
	}
	if ch := byPath["run.sh"]; ch.Old.Mode != 0o644 || ch.New.Mode != 0o755 || ch.ContentChanged {
		t.Errorf("run.sh: mode %o -> %o, content changed %v", ch.Old.Mode, ch.New.Mode, ch.ContentChanged)
	}
	if ch := byPath["mod.txt"]; ch.Old.Digest == "" || ch.New.Digest == "" || ch.Old.Digest == ch.New.Digest || ch.Old.Size != 9 || ch.New.Size != 9 {
		t.Errorf("mod.txt: %+v -> %+v, want two different digests of 9 bytes", ch.Old, ch.New)
	}
	wantTotals := blobber.DiffTotals{
		Added: 2, Deleted: 3, Modified: 4, TypeChanged: 2,
		// old: f2d, f2l, gone/x.txt, grow.txt, mod.txt, old.txt
		OldBytes: 6 + 6 + 1 + 5 + 9 + 7,
		// new: f2d/in.txt, grow.txt, mod.txt, new.txt
		NewBytes: 2 + 10 + 9 + 5,
	}
	if d.Totals != wantTotals {
		t.Errorf("totals %+v, want %+v", d.Totals, wantTotals)
	}
	if d.Identical() {
		t.Error("Identical() of a diff with changes")
	}

	// The other way round, every addition is a deletion.
	back, err := c.Diff(ctx, repo+":v2", repo+":v1")
	testtree.Must(t, err)
	rev := d.Reverse()
	if got, want := describeDiff(back), describeDiff(rev); !slices.Equal(got, want) {
		t.Fatalf("diff v2 v1:\n got %q\nwant the reverse of v1 v2 %q", got, want)
	}
	if back.Totals != rev.Totals {
		t.Errorf("diff v2 v1 totals %+v, reverse %+v", back.Totals, rev.Totals)
	}
}

// TestDiffIdentical: the same tree pushed under two tags, and again cut
// into other chunks (the whole-file digest decides), is identical.
func TestDiffIdentical(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	c := newClient(t)
	repo := reg.Host() + "/diff/same"
	pushEntries(t, c, repo+":a", diffV1(), blobber.WithChunkSize(4096))
	pushEntries(t, c, repo+":b", diffV1(), blobber.WithChunkSize(4096))
	pushEntries(t, c, repo+":c", diffV1(), blobber.WithChunkSize(8192))
	for _, other := range []string{"b", "c"} {
		d, err := c.Diff(ctx, repo+":a", repo+":"+other)
		testtree.Must(t, err)
		if !d.Identical() || d.Totals != (blobber.DiffTotals{}) {
			t.Errorf("a and %s: %q, totals %+v; want identical", other, describeDiff(d), d.Totals)
		}
		if !strings.Contains(d.Old, "@sha256:") || !strings.Contains(d.New, "@sha256:") {
			t.Errorf("Old %q, New %q: want repository@digest", d.Old, d.New)
		}
	}
}

// TestDiffReadsOnlyTheTOCs: a diff of two versions of a tree with 8 MiB
// of files reads what opening each reads (the tail of its layer), and no
// file content.
func TestDiffReadsOnlyTheTOCs(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	c := newClient(t)
	repo := proxy.Host() + "/diff/bytes"
	v1 := map[string]testtree.Entry{}
	for i := range 8 {
		v1[fmt.Sprintf("f%d.bin", i)] = testtree.Entry{Content: randomText(uint64(i), 1<<20)}
	}
	v2 := maps.Clone(v1)
	v2["f3.bin"] = testtree.Entry{Content: randomText(99, 1<<20)}
	pushEntries(t, c, repo+":v1", v1)
	pushEntries(t, c, repo+":v2", v2)

	var tails registrytest.Stats
	for _, tag := range []string{"v1", "v2"} {
		proxy.Reset()
		img, err := c.Open(ctx, repo+":"+tag)
		testtree.Must(t, err)
		img.Close()
		s := proxy.Stats()
		tails.BlobRequests += s.BlobRequests
		tails.BlobBytes += s.BlobBytes
	}
	proxy.Reset()
	d, err := c.Diff(ctx, repo+":v1", repo+":v2")
	testtree.Must(t, err)
	if got := describeDiff(d); !slices.Equal(got, []string{"M f3.bin content"}) {
		t.Fatalf("diff: %q", got)
	}
	s := proxy.Stats()
	if s.BlobRequests != tails.BlobRequests || s.BlobBytes != tails.BlobBytes {
		t.Fatalf("diff read %d bytes of layers in %d requests; opening both reads %d in %d", s.BlobBytes, s.BlobRequests, tails.BlobBytes, tails.BlobRequests)
	}
	if s.BlobBytes >= 1<<20 {
		t.Fatalf("diff read %d bytes of layers, more than one file", s.BlobBytes)
	}
}

// pulledDir pulls ref into a new directory.
func pulledDir(t *testing.T, c *blobber.Client, ref string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "out")
	_, err := c.Pull(context.Background(), ref, dir)
	testtree.Must(t, err)
	return dir
}
