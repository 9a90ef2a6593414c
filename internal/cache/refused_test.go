package cache

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// A sync state too large to be one (a planted file: a sync writes a few
// hundred bytes a file) is refused from its size, without reading it into
// memory, and removed, so that the next sync does not read it again.
func TestOversizedSyncStateIsRemovedUnread(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	c, err := Open(dir)
	must(t, err)
	defer c.Close()
	must(t, c.PutSyncState("dir", []byte(`{}`)))
	p := filepath.Join(dir, syncStatePath("dir"))
	// Sparse: it costs no disk.
	must(t, os.Truncate(p, maxSyncStateSize+1))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, ok := c.SyncState("dir"); ok {
		t.Fatal("an oversized sync state was read")
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("refusing the oversized sync state allocated %d bytes: it was read", n)
	}
	if _, err := os.Lstat(p); !os.IsNotExist(err) {
		t.Fatalf("the refused sync state is still there (%v): every sync reads and refuses it again", err)
	}
}
