package blobber_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	digest "github.com/opencontainers/go-digest"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// TestDiffDirHashesOnlySameSizeFiles: a directory just pulled is
// identical to its artifact; after local edits, each is reported, and
// only the files whose type and size match the artifact's are hashed.
func TestDiffDirHashesOnlySameSizeFiles(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	c := newClient(t)
	ref := proxy.Host() + "/diff/dir:v1"
	pushEntries(t, c, ref, diffV1(), blobber.WithChunkSize(4096))
	dir := pulledDir(t, c, ref)

	proxy.Reset()
	img, err := c.Open(ctx, ref)
	testtree.Must(t, err)
	img.Close()
	tail := proxy.Stats()

	proxy.Reset()
	d, err := c.DiffDir(ctx, ref, dir)
	testtree.Must(t, err)
	if !d.Identical() {
		t.Fatalf("a directory just pulled: %q", describeDiff(d))
	}
	// Every file of some content has the artifact's size: each is hashed.
	nonEmpty := 0
	for _, e := range diffV1() {
		if e.Mode.Type() == 0 && e.Content != "" {
			nonEmpty++
		}
	}
	if d.Hashed != nonEmpty {
		t.Errorf("hashed %d files, want %d", d.Hashed, nonEmpty)
	}
	if s := proxy.Stats(); s.BlobBytes != tail.BlobBytes || s.BlobRequests != tail.BlobRequests {
		t.Errorf("DiffDir read %d bytes in %d requests, ls %d in %d", s.BlobBytes, s.BlobRequests, tail.BlobBytes, tail.BlobRequests)
	}

	// Turn the pulled v1 into v2: the same changes as between the artifacts.
	local := func(name string) string { return filepath.Join(dir, filepath.FromSlash(name)) }
	testtree.Must(t, os.RemoveAll(local("old.txt")))
	testtree.Must(t, os.RemoveAll(local("gone")))
	testtree.Must(t, os.Remove(local("f2d")))
	testtree.Must(t, os.Remove(local("f2l")))
	testtree.Must(t, os.Remove(local("ln")))
	testtree.WriteEntries(t, dir, map[string]testtree.Entry{
		"new.txt":    {Content: "added"},
		"mod.txt":    {Content: "version 2"}, // same size: hashed
		"grow.txt":   {Content: "longer now"},
		"f2d/in.txt": {Content: "in"},
		"f2l":        {Mode: fs.ModeSymlink, Content: "same.txt"},
		"ln":         {Mode: fs.ModeSymlink, Content: "sub/keep.txt"},
	})
	testtree.Must(t, os.Chmod(local("run.sh"), 0o755))

	d, err = c.DiffDir(ctx, ref, dir)
	testtree.Must(t, err)
	if got := describeDiff(d); !slices.Equal(got, wantV1toV2) {
		t.Fatalf("DiffDir:\n got %q\nwant %q", got, wantV1toV2)
	}
	// Hashed: big.bin, mod.txt, run.sh, same.txt, sub/keep.txt; not
	// grow.txt (its size differs), nor what one side lacks.
	if d.Hashed != 5 {
		t.Errorf("hashed %d files, want 5 (the files of the same size)", d.Hashed)
	}
	if d.New != dir {
		t.Errorf("New = %q, want the directory %q", d.New, dir)
	}
}

// TestDiffDirNeverFollowsLinksOut: links in the directory are compared
// as links; neither a link to a directory outside nor one to a file
// outside is read.
func TestDiffDirNeverFollowsLinksOut(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	c := newClient(t)
	ref := reg.Host() + "/diff/links:v1"
	pushEntries(t, c, ref, map[string]testtree.Entry{"a.txt": {Content: "a"}})
	dir := pulledDir(t, c, ref)
	outside := t.TempDir()
	testtree.Write(t, outside, map[string]string{"secret/x": "x", "f": "f"})
	testtree.Must(t, os.Symlink(filepath.Join(outside, "secret"), filepath.Join(dir, "escape")))
	testtree.Must(t, os.Symlink("../../../../../../../../"+outside+"/f", filepath.Join(dir, "up")))

	d, err := c.DiffDir(ctx, ref, dir)
	testtree.Must(t, err)
	if got, want := describeDiff(d), []string{"A escape", "A up"}; !slices.Equal(got, want) {
		t.Fatalf("DiffDir: %q, want %q (links, not what they lead to)", got, want)
	}
	if d.Changes[0].New.Type != "symlink" {
		t.Fatalf("escape: %+v", d.Changes[0].New)
	}
}

// vouchingState vouches for every file with the digest it was given, and
// counts the files the comparison hashed.
type vouchingState struct {
	digests map[string]digest.Digest
	hashed  []string
}

func (s *vouchingState) Digest(name string, _ fs.FileInfo) (digest.Digest, bool) {
	d, ok := s.digests[name]
	return d, ok
}

func (s *vouchingState) Hashed(name string, _ fs.FileInfo, _ digest.Digest) {
	s.hashed = append(s.hashed, name)
}

// TestDiffDirAsksTheStateFirst: a file the sync state vouches for is not
// hashed, and the state's digest decides; the others are hashed and
// reported to the state.
func TestDiffDirAsksTheStateFirst(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	c := newClient(t)
	ref := reg.Host() + "/diff/state:v1"
	pushEntries(t, c, ref, map[string]testtree.Entry{"a.txt": {Content: "a"}, "b.txt": {Content: "b"}, "c.txt": {Content: "c"}})
	dir := pulledDir(t, c, ref)
	img, err := c.Open(ctx, ref)
	testtree.Must(t, err)
	defer img.Close()
	aDigest, _ := img.FileDigest("a.txt")
	state := &vouchingState{digests: map[string]digest.Digest{
		"a.txt": aDigest,
		// What a previous sync wrote there, by its record: not b.
		"b.txt": digest.FromString("not b"),
	}}
	d, err := img.DiffDir(ctx, dir, blobber.WithDiffState(state))
	testtree.Must(t, err)
	if got, want := describeDiff(d), []string{"M b.txt content"}; !slices.Equal(got, want) {
		t.Fatalf("DiffDir: %q, want %q (the state's digest decides)", got, want)
	}
	if d.Hashed != 1 || !slices.Equal(state.hashed, []string{"c.txt"}) {
		t.Fatalf("hashed %d files, the state was told of %q; want c.txt alone", d.Hashed, state.hashed)
	}
}
