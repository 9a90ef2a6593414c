package cache

import (
	"testing"

	digest "github.com/opencontainers/go-digest"
)

// A bounded cache prunes its least recently used entries as reads fill
// it: it never holds much more than its bound, and what was read last is
// still there.
func TestBoundPrunesLeastRecentlyUsed(t *testing.T) {
	dir := t.TempDir()
	c := openCache(t, dir)
	const bound, size, n = 1 << 20, 300 << 10, 10
	c.SetMaxSize(bound)
	var dgsts []digest.Digest
	for i := range n {
		data := testData(byte(i), size)
		d := digest.FromBytes(data)
		dgsts = append(dgsts, d)
		b := c.Blob(d, size, &fakeRemote{data: data})
		mustRead(t, b, data, 0, size)
		b.Close()
		if used := c.diskUsage(); used > bound {
			t.Fatalf("after blob %d the cache holds %d bytes, over its bound of %d", i, used, bound)
		}
	}
	for i, d := range dgsts {
		b := c.Blob(d, size, nil)
		complete := b.Complete()
		b.Close()
		if i >= n-2 && !complete {
			t.Errorf("blob %d, among the last read, was pruned", i)
		}
		if i < n-4 && complete {
			t.Errorf("blob %d, among the first read, was kept", i)
		}
	}
}

// Without a bound, nothing is pruned.
func TestNoBoundKeepsEverything(t *testing.T) {
	c := openCache(t, t.TempDir())
	const size = 300 << 10
	for i := range 5 {
		data := testData(byte(i), size)
		b := c.Blob(digest.FromBytes(data), size, &fakeRemote{data: data})
		mustRead(t, b, data, 0, size)
		b.Close()
	}
	info, err := c.Info()
	must(t, err)
	if info.Blobs != 5 {
		t.Fatalf("%d blobs cached, want 5", info.Blobs)
	}
}

func TestDefaultMaxSizeFor(t *testing.T) {
	got := DefaultMaxSizeFor(t.TempDir())
	if got < minDefaultMaxSize || got > DefaultMaxSize {
		t.Fatalf("DefaultMaxSizeFor = %d", got)
	}
	if total, ok := fileSystemSize(t.TempDir()); ok && total/10 < DefaultMaxSize && got != max(minDefaultMaxSize, total/10) {
		t.Fatalf("DefaultMaxSizeFor = %d on a file system of %d bytes", got, total)
	}
}
