package blobber_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// TestSyncSelectTouchesOnlyTheSelection: with a selection, sync plans,
// fetches and deletes only within it; what lies outside stays as it was.
func TestSyncSelectTouchesOnlyTheSelection(t *testing.T) {
	f := newSyncFixture(t)
	v1 := syncTree(20)
	ref1 := f.push("v1", v1)
	v2 := syncTree(20)
	v2["d0/f000.bin"] = testtree.Entry{Content: "v2 of d0"}
	v2["d1/f001.bin"] = testtree.Entry{Content: "v2 of d1"}
	ref2 := f.push("v2", v2)
	dir := filepath.Join(t.TempDir(), "out")
	f.sync(ref1, dir)
	testtree.Write(t, dir, map[string]string{"extra.txt": "outside", "d0/extra.txt": "inside"})

	sel := blobber.WithSyncSelect(blobber.Selection{Paths: []string{"d0"}, Exclude: []string{"**/f005.bin"}})
	res, _ := f.sync(ref2, dir, sel, blobber.WithSyncDelete())
	for _, c := range res.Plan.Changes {
		if !strings.HasPrefix(c.Path, "d0/") {
			t.Errorf("planned %s %s, outside the selection", c.Kind, c.Path)
		}
	}
	if res.Fetched != 1 || res.Deleted != 1 || res.Unchanged != 2 { // d0 holds f000, f005, f010, f015
		t.Errorf("fetched %d, deleted %d, unchanged %d; want 1, 1, 2", res.Fetched, res.Deleted, res.Unchanged)
	}
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		testtree.Must(t, err)
		return string(data)
	}
	if read("d0/f000.bin") != "v2 of d0" || read("d1/f001.bin") != v1["d1/f001.bin"].Content || read("extra.txt") != "outside" {
		t.Error("sync wrote or removed outside its selection, or missed inside it")
	}
	if _, err := os.Stat(filepath.Join(dir, "d0", "extra.txt")); err == nil {
		t.Error("--delete left d0/extra.txt, inside the selection")
	}
	if _, err := f.c.Sync(t.Context(), ref2, dir, blobber.WithSyncSelect(blobber.Selection{Include: []string{"["}})); err == nil {
		t.Error("an invalid glob was accepted")
	}
}
