package blobber_test

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// syncTree is n files of 2 KiB that do not compress, in a few
// directories.
func syncTree(n int) map[string]testtree.Entry {
	r := rand.New(rand.NewPCG(1, 2))
	entries := map[string]testtree.Entry{}
	for i := range n {
		b := make([]byte, 2048)
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		entries[fmt.Sprintf("d%d/f%03d.bin", i%5, i)] = testtree.Entry{Content: string(b)}
	}
	return entries
}

// syncFixture is a registry behind a counting proxy and a client with a
// cache of its own.
type syncFixture struct {
	t     *testing.T
	proxy *registrytest.Proxy
	c     *blobber.Client
	cache string
}

func newSyncFixture(t *testing.T) *syncFixture {
	reg := registrytest.Start(t)
	cache := t.TempDir()
	return &syncFixture{t: t, proxy: reg.CountingProxy(t), c: newClient(t, blobber.WithCache(cache)), cache: cache}
}

func (f *syncFixture) push(tag string, entries map[string]testtree.Entry) string {
	ref := f.proxy.Host() + "/sync/tree:" + tag
	pushEntries(f.t, f.c, ref, entries)
	return ref
}

func (f *syncFixture) sync(ref, dir string, opts ...blobber.SyncOption) (*blobber.SyncResult, registrytest.Stats) {
	f.t.Helper()
	f.proxy.Reset()
	res, err := f.c.Sync(context.Background(), ref, dir, opts...)
	testtree.Must(f.t, err)
	return res, f.proxy.Stats()
}

// tail is what an Open of ref reads from the registry with no cache.
func (f *syncFixture) tail(ref string) int64 {
	f.t.Helper()
	f.proxy.Reset()
	img, err := newClient(f.t).Open(context.Background(), ref)
	testtree.Must(f.t, err)
	img.Close()
	return f.proxy.Stats().BlobBytes
}

// sameAsPull checks that dir holds what a pull of ref writes.
func (f *syncFixture) sameAsPull(ref, dir string) {
	f.t.Helper()
	testtree.Equal(f.t, pulledDir(f.t, newClient(f.t), ref), dir)
}

// TestSyncFetchesOnlyTheChangedFile: a sync of v2 over v1 where one file
// of many changed reads that file's chunks, the TOC and little else, and
// hashes nothing; a sync when nothing changed reads no layer bytes beyond
// the TOC, fetches and hashes nothing.
func TestSyncFetchesOnlyTheChangedFile(t *testing.T) {
	f := newSyncFixture(t)
	v1 := syncTree(200)
	ref1 := f.push("v1", v1)
	v2 := syncTree(200)
	v2["d3/f003.bin"] = testtree.Entry{Content: "changed, and shorter"}
	v2["d0/f000.bin"] = testtree.Entry{Content: v1["d0/f000.bin"].Content[:2047] + "x"} // same size
	ref2 := f.push("v2", v2)
	dir := filepath.Join(t.TempDir(), "out")

	res, _ := f.sync(ref1, dir)
	if res.Fetched != 200 || res.Unchanged != 0 {
		t.Fatalf("first sync: fetched %d, unchanged %d; want 200, 0", res.Fetched, res.Unchanged)
	}
	f.sameAsPull(ref1, dir)

	tail := f.tail(ref2)
	res, stats := f.sync(ref2, dir)
	if res.Fetched != 2 || res.Copied != 0 || res.Unchanged != 198 || res.Hashed != 0 {
		t.Errorf("sync of v2: fetched %d, copied %d, unchanged %d, hashed %d; want 2, 0, 198, 0", res.Fetched, res.Copied, res.Unchanged, res.Hashed)
	}
	if limit := tail + 2*2100 + 64<<10; stats.BlobBytes > limit {
		t.Errorf("sync of v2 read %d bytes of blobs, want at most %d (TOC tail %d)", stats.BlobBytes, limit, tail)
	}
	f.sameAsPull(ref2, dir)

	res, stats = f.sync(ref2, dir)
	if !res.Plan.Identical() || res.Fetched != 0 || res.FetchedBytes != 0 || res.Hashed != 0 {
		t.Errorf("sync with nothing changed: %d changes, fetched %d (%d bytes), hashed %d; want none", len(res.Plan.Changes), res.Fetched, res.FetchedBytes, res.Hashed)
	}
	if stats.BlobBytes > tail {
		t.Errorf("sync with nothing changed read %d bytes of blobs, more than the TOC tail's %d", stats.BlobBytes, tail)
	}
}

// TestSyncCopiesARenamedFile: a file renamed in the new version is copied
// from its old name, not fetched, and --delete removes the old name.
func TestSyncCopiesARenamedFile(t *testing.T) {
	f := newSyncFixture(t)
	v1 := syncTree(20)
	ref1 := f.push("v1", v1)
	v2 := syncTree(20)
	v2["moved/here.bin"] = v2["d1/f001.bin"]
	delete(v2, "d1/f001.bin")
	ref2 := f.push("v2", v2)
	dir := filepath.Join(t.TempDir(), "out")
	f.sync(ref1, dir)

	res, _ := f.sync(ref2, dir, blobber.WithSyncDelete())
	if res.Copied != 1 || res.Fetched != 0 || res.FetchedBytes != 0 || res.Deleted != 1 {
		t.Errorf("copied %d, fetched %d (%d bytes), deleted %d; want 1, 0 (0), 1", res.Copied, res.Fetched, res.FetchedBytes, res.Deleted)
	}
	f.sameAsPull(ref2, dir)
}

// TestSyncWithoutStateHashesOnce: a directory no sync wrote (here, a
// pull's) is hashed once, the files of the artifact's size only, then
// vouched for by the state.
func TestSyncWithoutStateHashesOnce(t *testing.T) {
	f := newSyncFixture(t)
	ref := f.push("v1", syncTree(30))
	dir := pulledDir(t, newClient(t), ref)
	res, _ := f.sync(ref, dir)
	if res.Hashed != 30 || !res.Plan.Identical() {
		t.Errorf("first sync over a pull: hashed %d, %d changes; want 30, 0", res.Hashed, len(res.Plan.Changes))
	}
	res, _ = f.sync(ref, dir)
	if res.Hashed != 0 {
		t.Errorf("second sync hashed %d files, want 0", res.Hashed)
	}
}

// TestSyncDetectsLocalEdits: an edit that keeps the size but not the time
// is found from metadata; one that keeps both only with WithSyncChecksum.
func TestSyncDetectsLocalEdits(t *testing.T) {
	f := newSyncFixture(t)
	v1 := syncTree(10)
	ref := f.push("v1", v1)
	dir := filepath.Join(t.TempDir(), "out")
	f.sync(ref, dir)
	name := filepath.Join(dir, "d2", "f002.bin")

	edited := []byte(v1["d2/f002.bin"].Content)
	edited[0]++
	testtree.Must(t, os.WriteFile(name, edited, 0o644)) // in place: same inode
	testtree.Must(t, os.Chtimes(name, time.Now(), time.Now().Add(time.Hour)))
	res, _ := f.sync(ref, dir)
	if res.Fetched != 1 || res.Hashed != 1 {
		t.Errorf("edit with a new time: fetched %d, hashed %d; want 1, 1", res.Fetched, res.Hashed)
	}
	f.sameAsPull(ref, dir)

	info, err := os.Stat(name)
	testtree.Must(t, err)
	testtree.Must(t, os.WriteFile(name, edited, 0o644))
	testtree.Must(t, os.Chtimes(name, info.ModTime(), info.ModTime()))
	if res, _ := f.sync(ref, dir, blobber.WithSyncDryRun()); !res.Plan.Identical() {
		t.Fatalf("an edit that kept inode, size and time was found without --checksum: %q", describeDiff(res.Plan))
	}
	res, _ = f.sync(ref, dir, blobber.WithSyncChecksum())
	if res.Fetched != 1 || res.Hashed != 10 {
		t.Errorf("--checksum: fetched %d, hashed %d; want 1, 10", res.Fetched, res.Hashed)
	}
	f.sameAsPull(ref, dir)
}

// TestSyncDeleteStaysInDir: --delete removes what the artifact lacks,
// a link as a link: nothing it points to outside DIR is touched.
func TestSyncDeleteStaysInDir(t *testing.T) {
	f := newSyncFixture(t)
	ref := f.push("v1", syncTree(5))
	dir := filepath.Join(t.TempDir(), "out")
	f.sync(ref, dir)
	outside := t.TempDir()
	testtree.Write(t, outside, map[string]string{"keep.txt": "not DIR's"})
	testtree.Must(t, os.Symlink(outside, filepath.Join(dir, "escape")))
	testtree.Must(t, os.Symlink(outside, filepath.Join(dir, "d1", "escape")))
	testtree.Write(t, dir, map[string]string{"extra/deep/x.txt": "x", "d0/extra.txt": "y"})

	res, _ := f.sync(ref, dir, blobber.WithSyncDryRun(), blobber.WithSyncDelete())
	if res.Plan.Totals.Deleted != 6 || res.Deleted != 0 {
		t.Fatalf("dry run: %q, deleted %d", describeDiff(res.Plan), res.Deleted)
	}
	if _, err := os.Lstat(filepath.Join(dir, "escape")); err != nil {
		t.Fatal("the dry run removed something")
	}
	res, _ = f.sync(ref, dir)
	if res.Deleted != 0 {
		t.Errorf("without --delete, deleted %d", res.Deleted)
	}
	res, _ = f.sync(ref, dir, blobber.WithSyncDelete())
	if res.Deleted != 6 {
		t.Errorf("deleted %d paths, want 6", res.Deleted)
	}
	f.sameAsPull(ref, dir)
	if data, err := os.ReadFile(filepath.Join(outside, "keep.txt")); err != nil || string(data) != "not DIR's" {
		t.Errorf("the file outside DIR: %q, %v", data, err)
	}
}

// TestSyncTypeChanges: a file that became a directory, a directory that
// became a file and a file that became a link are each replaced.
func TestSyncTypeChanges(t *testing.T) {
	f := newSyncFixture(t)
	ref1 := f.push("v1", map[string]testtree.Entry{
		"f2d": {Content: "file"}, "d2f/in.txt": {Content: "in"}, "f2l": {Content: "file"}, "same.txt": {Content: "same"},
	})
	ref2 := f.push("v2", map[string]testtree.Entry{
		"f2d/in.txt": {Content: "now a dir"}, "d2f": {Content: "now a file"}, "f2l": {Mode: fs.ModeSymlink, Content: "same.txt"}, "same.txt": {Content: "same"},
	})
	dir := filepath.Join(t.TempDir(), "out")
	f.sync(ref1, dir)
	f.sync(ref2, dir)
	f.sameAsPull(ref2, dir)
	f.sync(ref1, dir, blobber.WithSyncDelete())
	f.sameAsPull(ref1, dir)
}

// TestSyncIgnoresAStateOthersCouldWrite: a state record another user
// owns, or one open to others (which this user's cache never writes), is
// not trusted: every file is hashed again, and the record written anew.
func TestSyncIgnoresAStateOthersCouldWrite(t *testing.T) {
	const nobody = 65534
	for name, spoil := range map[string]func(t *testing.T, record string){
		"open to others": func(t *testing.T, record string) { testtree.Must(t, os.Chmod(record, 0o666)) },
		"another user's": func(t *testing.T, record string) {
			if os.Geteuid() != 0 {
				t.Skip("making a file another user's needs root (chown)")
			}
			testtree.Must(t, os.Chown(record, nobody, nobody))
		},
	} {
		t.Run(name, func(t *testing.T) {
			f := newSyncFixture(t)
			ref := f.push("v1", syncTree(10))
			dir := filepath.Join(t.TempDir(), "out")
			f.sync(ref, dir)
			records, err := filepath.Glob(filepath.Join(f.cache, "sync", "*.json"))
			testtree.Must(t, err)
			if len(records) != 1 {
				t.Fatalf("%d sync records in the cache, want 1", len(records))
			}
			spoil(t, records[0])
			if res, _ := f.sync(ref, dir); res.Hashed != 10 {
				t.Errorf("with such a record: hashed %d files, want 10", res.Hashed)
			}
			if res, _ := f.sync(ref, dir); res.Hashed != 0 {
				t.Errorf("with the record written again: hashed %d files, want 0", res.Hashed)
			}
		})
	}
}
