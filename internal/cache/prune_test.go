package cache

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
)

// populate makes three complete blobs (a, b, c: 64 KiB each), a partial
// one, a manifest and a tag, and sets their last-used times n hours ago
// in that order.
func populate(t *testing.T, c *Cache, dir string) (blobs []digest.Digest, partial, manifest digest.Digest) {
	t.Helper()
	const size = 64 << 10
	setAge := func(rel string, hours int) {
		ts := time.Now().Add(-time.Duration(hours) * time.Hour)
		if err := os.Chtimes(filepath.Join(dir, rel), ts, ts); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		data := testData(byte(10+i), size)
		d := digest.FromBytes(data)
		b := c.Blob(d, size, &fakeRemote{data: data})
		mustRead(t, b, data, 0, size)
		b.Close()
		blobs = append(blobs, d)
		setAge(blobsDir+"/"+d.Encoded(), 10-i) // a oldest
	}
	data := testData(20, size)
	partial = digest.FromBytes(data)
	b := c.Blob(partial, size, &fakeRemote{data: data})
	mustRead(t, b, data, 0, 8192)
	b.Close()
	setAge(partialDir+"/"+partial.Encoded()+".data", 1)

	mdata := []byte(`{"m":1}`)
	manifest = digest.FromBytes(mdata)
	if err := c.PutManifest(manifest, "application/json", mdata); err != nil {
		t.Fatal(err)
	}
	setAge(manifestsDir+"/"+manifest.Encoded(), 30)
	if err := c.PutTag("r/x:v1", manifest, "application/json", int64(len(mdata))); err != nil {
		t.Fatal(err)
	}
	return blobs, partial, manifest
}

func TestInfo(t *testing.T) {
	dir := t.TempDir()
	c := openCache(t, dir)
	blobs, partial, manifest := populate(t, c, dir)
	info, err := c.Info()
	if err != nil {
		t.Fatal(err)
	}
	if info.Dir != dir || info.Blobs != 3 || info.PartialBlobs != 1 || info.Manifests != 1 || info.Tags != 1 {
		t.Fatalf("Info = %+v", info)
	}
	var sum int64
	kinds := map[digest.Digest]string{}
	for _, e := range info.Entries {
		sum += e.Size
		kinds[e.Digest] += e.Kind
		if e.Kind == KindPartial && (e.Complete || e.Size < 8192 || e.Size >= 64<<10) {
			t.Errorf("partial entry %+v: sparse size expected", e)
		}
		if e.Kind == KindTag && e.Key != "r/x:v1" {
			t.Errorf("tag entry %+v", e)
		}
	}
	if sum != info.Bytes {
		t.Errorf("Bytes = %d, entries sum to %d", info.Bytes, sum)
	}
	for _, d := range blobs {
		if kinds[d] != KindBlob {
			t.Errorf("%s: %q", d, kinds[d])
		}
	}
	if kinds[partial] != KindPartial || kinds[manifest] != KindManifest+KindTag {
		t.Errorf("kinds = %v", kinds)
	}
}

func TestPruneOldestFirst(t *testing.T) {
	dir := t.TempDir()
	c := openCache(t, dir)
	blobs, partial, manifest := populate(t, c, dir)
	info, _ := c.Info()
	sizeOf := map[string]int64{}
	for _, e := range info.Entries {
		sizeOf[e.Kind+string(e.Digest)] += e.Size
	}

	// Under a limit that the two newest blobs, the partial one and the
	// tag fit: the manifest (30h) and blob a (10h) go, in that order.
	limit := info.Bytes - sizeOf[KindManifest+string(manifest)] - sizeOf[KindBlob+string(blobs[0])]
	removed, freed, err := c.Prune(limit, 0)
	if err != nil || removed != 2 || freed != info.Bytes-limit {
		t.Fatalf("Prune = %d, %d, %v; want 2, %d", removed, freed, err, info.Bytes-limit)
	}
	if _, _, ok := c.Manifest(manifest); ok {
		t.Error("the oldest entry survived")
	}
	for i, d := range blobs {
		b := c.Blob(d, 64<<10, nil)
		if b.Complete() != (i > 0) {
			t.Errorf("blob %d: complete = %v", i, b.Complete())
		}
		b.Close()
	}

	// By age: everything unused for over 5 hours (blob b, 9h; c, 8h).
	removed, _, err = c.Prune(0, 5*time.Hour)
	if err != nil || removed != 2 {
		t.Fatalf("Prune by age = %d, %v", removed, err)
	}
	info, _ = c.Info()
	if info.Blobs != 0 || info.PartialBlobs != 1 || info.Tags != 1 {
		t.Fatalf("after Prune by age: %+v", info)
	}
	if info.Entries[0].Digest != partial {
		t.Errorf("entries = %+v", info.Entries)
	}
	if removed, _, _ := c.Prune(0, 0); removed != 0 {
		t.Errorf("Prune with no limits removed %d", removed)
	}
	// Lock files of removed entries do not pile up.
	locks, _ := os.ReadDir(filepath.Join(dir, locksDir))
	for _, l := range locks {
		if l.Name() != filepath.Base(lockName(partial.Encoded())) {
			t.Errorf("stale lock file %s", l.Name())
		}
	}
}

func TestClear(t *testing.T) {
	dir := t.TempDir()
	c := openCache(t, dir)
	blobs, _, manifest := populate(t, c, dir)
	// Debris of a killed writer.
	old := time.Now().Add(-time.Hour)
	tmp := filepath.Join(dir, manifestsDir, tmpPrefix+"0123")
	os.WriteFile(tmp, []byte("half"), 0o600)
	os.Chtimes(tmp, old, old)

	if err := c.Clear(); err != nil {
		t.Fatal(err)
	}
	info, err := c.Info()
	if err != nil || len(info.Entries) != 0 || info.Bytes != 0 {
		t.Fatalf("after Clear: %+v, %v", info, err)
	}
	for _, d := range layoutDirs {
		left, _ := os.ReadDir(filepath.Join(dir, d))
		if len(left) != 0 {
			t.Errorf("%s: %d files left", d, len(left))
		}
	}
	if _, _, ok := c.Manifest(manifest); ok {
		t.Error("manifest survived Clear")
	}
	// The cache still works after a Clear.
	data := testData(10, 64<<10)
	r := &fakeRemote{data: data}
	b := c.Blob(blobs[0], 64<<10, r)
	defer b.Close()
	mustRead(t, b, data, 0, 64<<10)
	if !b.Complete() {
		t.Error("not complete after Clear and a refill")
	}
}
