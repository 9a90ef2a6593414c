package cache

import (
	"os"
	"strings"
	"testing"
	"time"
)

// A partial blob that lacks its data file or its index, untouched for a
// while, is what a killed process leaves: Info counts it as stale, and
// Prune, whatever its limits, removes it; a partial blob with both files,
// however old, is kept.
func TestStalePartialEntries(t *testing.T) {
	f := newFixture(t, 20000)
	b := f.blob(t)
	mustRead(t, b, f.data, 0, 100) // a usable partial entry
	b.Close()
	old := time.Now().Add(-2 * staleTemp)
	dataOnly := f.path(partialDir + "/" + strings.Repeat("a", 64) + ".data")
	indexOnly := f.path(partialDir + "/" + strings.Repeat("b", 64) + ".ranges")
	fresh := f.path(partialDir + "/" + strings.Repeat("c", 64) + ".data")
	must(t, os.WriteFile(dataOnly, []byte("half"), 0o600))
	must(t, os.WriteFile(indexOnly, []byte("blobber-ranges 1 10\n0 5\n"), 0o600))
	must(t, os.WriteFile(fresh, []byte("being written"), 0o600))
	for _, p := range []string{dataOnly, indexOnly, f.path(partialDir + "/" + f.hex() + ".data"), f.path(partialDir + "/" + f.hex() + ".ranges")} {
		must(t, os.Chtimes(p, old, old))
	}

	info, err := f.c.Info()
	must(t, err)
	if info.PartialBlobs != 4 || info.StalePartial != 2 {
		t.Fatalf("%d partial blobs, %d stale; want 4, 2", info.PartialBlobs, info.StalePartial)
	}
	n, _, err := f.c.Prune(0, 0)
	must(t, err)
	if n != 2 || exists(dataOnly) || exists(indexOnly) {
		t.Fatalf("Prune removed %d entries; the stale ones are there: %v %v", n, exists(dataOnly), exists(indexOnly))
	}
	if !exists(fresh) {
		t.Fatal("a data file being written was removed")
	}
	f.remote.takeCalls()
	mustRead(t, f.blob(t), f.data, 0, 100)
	wantCalls(t, f.remote)
}
