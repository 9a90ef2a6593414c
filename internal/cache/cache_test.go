package cache

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
)

func TestDefaultDir(t *testing.T) {
	t.Setenv("BLOBBER_CACHE_DIR", "/x/cache")
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	t.Setenv("HOME", "/home/u")
	if d, _ := DefaultDir(); d != "/x/cache" {
		t.Errorf("with BLOBBER_CACHE_DIR: %q", d)
	}
	t.Setenv("BLOBBER_CACHE_DIR", "")
	if d, _ := DefaultDir(); d != "/xdg/blobber" {
		t.Errorf("with XDG_CACHE_HOME: %q", d)
	}
	t.Setenv("XDG_CACHE_HOME", "relative")
	if d, _ := DefaultDir(); d != "/home/u/.cache/blobber" {
		t.Errorf("with a relative XDG_CACHE_HOME: %q", d)
	}
	t.Setenv("XDG_CACHE_HOME", "")
	if d, _ := DefaultDir(); d != "/home/u/.cache/blobber" {
		t.Errorf("with HOME only: %q", d)
	}
}

func TestOpenCreatesLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "cache")
	openCache(t, dir)
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("cache dir: %v, %v", fi, err)
	}
	for _, d := range layoutDirs {
		if fi, err := os.Lstat(filepath.Join(dir, d)); err != nil || !fi.IsDir() {
			t.Errorf("%s: %v", d, err)
		}
	}
	// A symlink where a layout directory belongs is replaced, not followed.
	os.RemoveAll(filepath.Join(dir, "partial"))
	os.Symlink("blobs", filepath.Join(dir, "partial"))
	openCache(t, dir)
	if fi, err := os.Lstat(filepath.Join(dir, "partial")); err != nil || !fi.IsDir() {
		t.Errorf("partial is still not a directory: %v", err)
	}
}

func TestRangesServedFromCache(t *testing.T) {
	f := newFixture(t, 10000)
	b := f.blob(t)
	mustRead(t, b, f.data, 100, 200)
	wantCalls(t, f.remote, span{100, 300})
	mustRead(t, b, f.data, 100, 200)
	mustRead(t, b, f.data, 150, 50)
	wantCalls(t, f.remote)

	// Another reader of the same blob, and another Cache on the same
	// directory (as another process would have), find it too.
	mustRead(t, f.blob(t), f.data, 120, 100)
	c2 := openCache(t, f.dir)
	b2 := c2.Blob(f.dgst, int64(len(f.data)), f.remote)
	defer b2.Close()
	mustRead(t, b2, f.data, 100, 200)
	wantCalls(t, f.remote)
	if b.Complete() {
		t.Error("a partial blob reports Complete")
	}
}

func TestGapsCoalesced(t *testing.T) {
	f := newFixture(t, 10000)
	b := f.blob(t)
	mustRead(t, b, f.data, 300, 100)
	mustRead(t, b, f.data, 600, 100)
	f.remote.takeCalls()

	// [200,800) with [300,400) and [600,700) cached: exactly the three gaps.
	mustRead(t, b, f.data, 200, 600)
	wantCalls(t, f.remote, span{200, 300}, span{400, 600}, span{700, 800})

	// One cached stretch inside a read: at most the two gaps around it.
	mustRead(t, b, f.data, 5000, 100)
	f.remote.takeCalls()
	mustRead(t, b, f.data, 4000, 2000)
	wantCalls(t, f.remote, span{4000, 5000}, span{5100, 6000})

	// Touching a cached range: one gap.
	mustRead(t, b, f.data, 6000, 100)
	wantCalls(t, f.remote, span{6000, 6100})
	data, err := os.ReadFile(f.path(partialDir + "/" + f.hex() + ".ranges"))
	if err != nil {
		t.Fatal(err)
	}
	want := "blobber-ranges 1 10000\n200 800\n4000 6100\n"
	if string(data) != want {
		t.Errorf("index = %q, want %q", data, want)
	}
}

func TestReadPastEnd(t *testing.T) {
	f := newFixture(t, 1000)
	b := f.blob(t)
	p := make([]byte, 100)
	n, err := b.ReadAt(p, 950)
	if n != 50 || err != io.EOF {
		t.Fatalf("ReadAt at the end = %d, %v", n, err)
	}
	if n, err := b.ReadAt(p, 1000); n != 0 || err != io.EOF {
		t.Fatalf("ReadAt past the end = %d, %v", n, err)
	}
	if _, err := b.ReadAt(p, -1); err == nil {
		t.Fatal("negative offset accepted")
	}
	wantCalls(t, f.remote, span{950, 1000})
	if b.Size() != 1000 {
		t.Errorf("Size = %d", b.Size())
	}
}

func TestCompleteVerified(t *testing.T) {
	f := newFixture(t, 100000)
	b := f.blob(t)
	for off := int64(0); off < 100000; off += 30000 {
		mustRead(t, b, f.data, off, min(30000, 100000-off))
	}
	if !b.Complete() {
		t.Fatal("blob not complete after reading all of it")
	}
	got, err := os.ReadFile(f.path(blobsDir + "/" + f.hex()))
	if err != nil || digest.FromBytes(got) != f.dgst {
		t.Fatalf("complete blob file: %v", err)
	}
	if exists(f.path(partialDir+"/"+f.hex()+".data")) || exists(f.path(partialDir+"/"+f.hex()+".ranges")) {
		t.Error("partial files left after completion")
	}
	f.remote.takeCalls()

	// Offline, a new reader serves all of it.
	off := f.c.Blob(f.dgst, 100000, nil)
	defer off.Close()
	if !off.Complete() {
		t.Error("Complete is false for a new reader")
	}
	mustRead(t, off, f.data, 0, 100000)
	info, err := f.c.Info()
	if err != nil || info.Blobs != 1 || info.PartialBlobs != 0 {
		t.Errorf("Info = %+v, %v", info, err)
	}
}

func TestCompleteWrongDigestDropped(t *testing.T) {
	f := newFixture(t, 5000)
	wrong := digest.FromString("something else")
	b := f.c.Blob(wrong, 5000, f.remote)
	defer b.Close()
	mustRead(t, b, f.data, 0, 3000)
	mustRead(t, b, f.data, 3000, 2000) // completes; the hash does not match
	if b.Complete() {
		t.Fatal("a blob that does not match its digest is complete")
	}
	hex := wrong.Encoded()
	for _, p := range []string{blobsDir + "/" + hex, partialDir + "/" + hex + ".data", partialDir + "/" + hex + ".ranges"} {
		if exists(f.path(p)) {
			t.Errorf("%s left behind", p)
		}
	}
	f.remote.takeCalls()
	mustRead(t, b, f.data, 0, 100)
	wantCalls(t, f.remote, span{0, 100})
}

func TestInvalidate(t *testing.T) {
	f := newFixture(t, 10000)
	b := f.blob(t)
	mustRead(t, b, f.data, 0, 1000)
	if err := b.Invalidate(200, 100); err != nil {
		t.Fatal(err)
	}
	f.remote.takeCalls()
	mustRead(t, b, f.data, 0, 1000)
	wantCalls(t, f.remote, span{200, 300})

	mustRead(t, b, f.data, 0, 10000)
	if !b.Complete() {
		t.Fatal("not complete")
	}
	f.remote.takeCalls()
	if err := b.Invalidate(5000, 10); err != nil {
		t.Fatal(err)
	}
	if b.Complete() || exists(f.path(blobsDir+"/"+f.hex())) {
		t.Fatal("an invalidated complete blob is still complete")
	}
	// Only the invalidated bytes are fetched again; the rest stays cached.
	mustRead(t, b, f.data, 4990, 30)
	wantCalls(t, f.remote, span{5000, 5010})

	// Invalidating everything removes the entry.
	if err := b.Invalidate(0, 10000); err != nil {
		t.Fatal(err)
	}
	if exists(f.path(partialDir + "/" + f.hex() + ".data")) {
		t.Error("data file left after invalidating every byte")
	}
}

// TestCorruptCompleteBlob: a complete blob is not rehashed on every read,
// so bytes that rot on disk are served until the caller, who checks
// chunk digests, invalidates them, range by range.
func TestCorruptCompleteBlob(t *testing.T) {
	f := newFixture(t, 4096)
	b := f.blob(t)
	mustRead(t, b, f.data, 0, 4096)
	if err := os.WriteFile(f.path(blobsDir+"/"+f.hex()), make([]byte, 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	b2 := f.blob(t)
	p := make([]byte, 10)
	b2.ReadAt(p, 0)
	if err := b2.Invalidate(0, 10); err != nil {
		t.Fatal(err)
	}
	f.remote.takeCalls()
	mustRead(t, b2, f.data, 0, 10)
	wantCalls(t, f.remote, span{0, 10})
	// Every byte is recorded again, and the whole does not hash to the
	// digest (the rest rotted too): there is no telling which bytes are
	// bad, so all of them go.
	mustRead(t, b2, f.data, 0, 4096)
	wantCalls(t, f.remote, span{0, 4096})
	if !b2.Complete() {
		t.Fatal("the blob fetched again is not complete")
	}
}

func TestOffline(t *testing.T) {
	f := newFixture(t, 1000)
	mustRead(t, f.blob(t), f.data, 100, 100)
	b := f.c.Blob(f.dgst, 1000, nil)
	defer b.Close()
	mustRead(t, b, f.data, 100, 100)
	p := make([]byte, 100)
	n, err := b.ReadAt(p, 150)
	if !errors.Is(err, ErrOffline) || n != 50 {
		t.Fatalf("offline read of a half-cached range = %d, %v", n, err)
	}
	if string(p[:50]) != string(f.data[150:200]) {
		t.Error("the cached half is wrong")
	}
	if _, err := b.ReadAt(p, 500); !errors.Is(err, ErrOffline) {
		t.Fatalf("offline read of a missing range: %v", err)
	}
}

func TestRemoteErrorKeepsWhatArrived(t *testing.T) {
	f := newFixture(t, 1000)
	fail := &failingRemote{fakeRemote: f.remote, failAt: 150}
	b := f.c.Blob(f.dgst, 1000, fail)
	defer b.Close()
	p := make([]byte, 100)
	n, err := b.ReadAt(p, 100)
	if err == nil || n != 50 {
		t.Fatalf("ReadAt = %d, %v", n, err)
	}
	f.remote.takeCalls()
	mustRead(t, f.blob(t), f.data, 100, 100)
	wantCalls(t, f.remote, span{150, 200})
}

// failingRemote returns an error after the byte failAt.
type failingRemote struct {
	*fakeRemote
	failAt int64
}

func (r *failingRemote) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) <= r.failAt {
		return r.fakeRemote.ReadAt(p, off)
	}
	n, _ := r.fakeRemote.ReadAt(p[:max(0, r.failAt-off)], off)
	return n, errors.New("connection reset")
}

func TestMalformedDigests(t *testing.T) {
	dir := t.TempDir()
	c := openCache(t, dir)
	remote := &fakeRemote{data: make([]byte, 100)}
	for _, d := range []digest.Digest{
		"sha256:../../x",
		"sha256:" + "../../../../../../../../../../../../../../../../../../../../etc/passwd",
		"sha256:ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789",
		"sha256:abc",
		"",
		digest.Digest("../sha256:" + digest.FromString("x").Encoded()),
	} {
		b := c.Blob(d, 100, remote)
		if _, err := b.ReadAt(make([]byte, 10), 0); !errors.Is(err, ErrInvalidDigest) {
			t.Errorf("Blob(%q).ReadAt: %v", d, err)
		}
		if err := b.Invalidate(0, 1); !errors.Is(err, ErrInvalidDigest) {
			t.Errorf("Blob(%q).Invalidate: %v", d, err)
		}
		b.Close()
		if err := c.PutManifest(d, "m", nil); !errors.Is(err, ErrInvalidDigest) {
			t.Errorf("PutManifest(%q): %v", d, err)
		}
		if _, _, ok := c.Manifest(d); ok {
			t.Errorf("Manifest(%q) hit", d)
		}
		if err := c.PutTag("k", d, "m", 1); !errors.Is(err, ErrInvalidDigest) {
			t.Errorf("PutTag(%q): %v", d, err)
		}
	}
	if calls := remote.takeCalls(); len(calls) != 0 {
		t.Errorf("remote read for malformed digests: %v", calls)
	}

	// A valid digest of another algorithm is read through, uncached.
	data := []byte("hello, world")
	d512 := digest.SHA512.FromBytes(data)
	r := &fakeRemote{data: data}
	b := c.Blob(d512, int64(len(data)), r)
	defer b.Close()
	mustRead(t, b, data, 0, 5)
	mustRead(t, b, data, 0, 5)
	wantCalls(t, r, span{0, 5}, span{0, 5})
	if err := c.PutManifest(d512, "m", data); !errors.Is(err, ErrInvalidDigest) {
		t.Errorf("PutManifest(sha512): %v", err)
	}

	// Nothing was created anywhere but the layout.
	info, err := c.Info()
	if err != nil || len(info.Entries) != 0 {
		t.Errorf("Info = %+v, %v", info, err)
	}
	if exists(filepath.Join(filepath.Dir(dir), "x")) {
		t.Error("a file escaped the cache")
	}
}

func TestManifests(t *testing.T) {
	dir := t.TempDir()
	c := openCache(t, dir)
	data := []byte(`{"schemaVersion":2}`)
	d := digest.FromBytes(data)
	const mt = "application/vnd.oci.image.manifest.v1+json"
	if _, _, ok := c.Manifest(d); ok {
		t.Fatal("hit in an empty cache")
	}
	if err := c.PutManifest(d, mt, data); err != nil {
		t.Fatal(err)
	}
	if err := c.PutManifest(d, mt, data); err != nil {
		t.Fatal("storing twice:", err)
	}
	gotMT, got, ok := c.Manifest(d)
	if !ok || gotMT != mt || string(got) != string(data) {
		t.Fatalf("Manifest = %q, %q, %v", gotMT, got, ok)
	}
	if err := c.PutManifest(digest.FromString("other"), mt, data); !errors.Is(err, ErrDigestMismatch) {
		t.Errorf("PutManifest under the wrong digest: %v", err)
	}
	if err := c.PutManifest(d, "bad\nmedia type", data); err == nil {
		t.Error("a media type with a newline was accepted")
	}

	// A tampered file is a miss, and is removed.
	path := filepath.Join(dir, manifestsDir, d.Encoded())
	if err := os.WriteFile(path, []byte(mt+"\n"+`{"schemaVersion":3}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := c.Manifest(d); ok {
		t.Fatal("tampered manifest served")
	}
	if exists(path) {
		t.Error("tampered manifest not removed")
	}

	// So is a symlink, even to the right bytes, and a directory.
	c.PutManifest(d, mt, data)
	other := filepath.Join(dir, "elsewhere")
	os.Rename(path, other)
	os.Symlink(other, path)
	if _, _, ok := c.Manifest(d); ok || exists(path) {
		t.Errorf("symlinked manifest: hit %v, still there %v", ok, exists(path))
	}
	os.Mkdir(path, 0o700)
	if _, _, ok := c.Manifest(d); ok || exists(path) {
		t.Errorf("directory manifest: hit %v, still there %v", ok, exists(path))
	}
	os.Mkdir(path, 0o700)
	if err := c.PutManifest(d, mt, data); err != nil {
		t.Errorf("PutManifest over a directory: %v", err)
	}
	if _, _, ok := c.Manifest(d); !ok {
		t.Error("miss after PutManifest over a directory")
	}
}

func TestTags(t *testing.T) {
	dir := t.TempDir()
	c := openCache(t, dir)
	d := digest.FromString("manifest")
	const key = "ghcr.io/acme/site:v1"
	const mt = "application/vnd.oci.image.manifest.v1+json"
	if _, _, _, ok := c.Tag(key, -1); ok {
		t.Fatal("hit in an empty cache")
	}
	if err := c.PutTag(key, d, mt, 123); err != nil {
		t.Fatal(err)
	}
	check := func(maxAge time.Duration, want bool) {
		t.Helper()
		gd, gmt, size, ok := c.Tag(key, maxAge)
		if ok != want {
			t.Fatalf("Tag(maxAge %v) ok = %v, want %v", maxAge, ok, want)
		}
		if ok && (gd != d || gmt != mt || size != 123) {
			t.Fatalf("Tag = %s %s %d", gd, gmt, size)
		}
	}
	check(0, false) // always resolve
	check(-1, true) // offline: any age
	check(time.Hour, true)
	if _, _, _, ok := c.Tag("ghcr.io/acme/site:v2", -1); ok {
		t.Error("another key hit")
	}

	// An old resolution is stale for a TTL but still good offline.
	path := filepath.Join(dir, tagPath(key))
	rec, err := c.readTag(tagPath(key))
	if err != nil {
		t.Fatal(err)
	}
	rec.Resolved = time.Now().Add(-2 * time.Hour)
	writeJSON(t, path, rec)
	check(time.Hour, false)
	check(3*time.Hour, true)
	check(-1, true)

	// A record filed under another key's name is not believed.
	rec.Key = "ghcr.io/acme/site:v2"
	writeJSON(t, path, rec)
	check(-1, false)
	if exists(path) {
		t.Error("mismatched tag record not removed")
	}
	os.WriteFile(path, []byte("{not json"), 0o600)
	check(-1, false)
	if exists(path) {
		t.Error("malformed tag record not removed")
	}
	// A newer PutTag replaces the old one.
	c.PutTag(key, d, mt, 123)
	d2 := digest.FromString("manifest 2")
	c.PutTag(key, d2, mt, 7)
	if got, _, _, _ := c.Tag(key, -1); got != d2 {
		t.Errorf("Tag after update = %s", got)
	}
}

func TestTouchRateLimited(t *testing.T) {
	f := newFixture(t, 1000)
	mustRead(t, f.blob(t), f.data, 0, 1000)
	path := f.path(blobsDir + "/" + f.hex())
	old := time.Now().Add(-48 * time.Hour)
	os.Chtimes(path, old, old)

	c2 := openCache(t, f.dir)
	b := c2.Blob(f.dgst, 1000, nil)
	defer b.Close()
	mustRead(t, b, f.data, 0, 10)
	if fi, _ := os.Stat(path); time.Since(fi.ModTime()) > time.Minute {
		t.Fatalf("not touched on use: %v", fi.ModTime())
	}
	os.Chtimes(path, old, old)
	mustRead(t, b, f.data, 0, 10)
	if fi, _ := os.Stat(path); !fi.ModTime().Equal(old) {
		t.Fatalf("touched twice within a minute: %v", fi.ModTime())
	}
}

func TestEmptyReads(t *testing.T) {
	f := newFixture(t, 100)
	b := f.c.Blob(f.dgst, 100, nil)
	defer b.Close()
	if n, err := b.ReadAt(nil, 10); n != 0 || err != nil {
		t.Errorf("empty read = %d, %v", n, err)
	}
	empty := f.c.Blob(digest.FromBytes(nil), 0, nil)
	defer empty.Close()
	if n, err := empty.ReadAt(make([]byte, 1), 0); n != 0 || err != io.EOF {
		t.Errorf("read of an empty blob = %d, %v", n, err)
	}
}
