package layer

import (
	"context"
	"fmt"
	"io/fs"
	"runtime"
	"slices"
	"testing"
	"testing/fstest"
	"time"
)

// A group's subtree holds exactly its entries, and the directories that
// lead to them, on names whose bytes sort around the separator ("a",
// "a-b", "a.b", "a/z"), nested directories, empty ones and files of their
// own layer.
func TestSubtreeOfGroupRangeHoldsItsEntries(t *testing.T) {
	fsys := fstest.MapFS{}
	for i := range 900 {
		dirs := []string{"a", "a-b", "a.b", "a/z", "a/z/y", "b", "b0", "c/d/e"}
		fsys[fmt.Sprintf("%s/f%03d", dirs[i%len(dirs)], i)] = &fstest.MapFile{Data: make([]byte, 200+i%1500), Mode: 0o644}
	}
	fsys["a/empty"] = &fstest.MapFile{Mode: fs.ModeDir | 0o755}
	fsys["a/z/big"] = &fstest.MapFile{Data: make([]byte, testSplit.OwnLayer), Mode: 0o644}
	fsys["a-b/big"] = &fstest.MapFile{Data: make([]byte, testSplit.OwnLayer), Mode: 0o644}
	names, err := Split(context.Background(), fsys, testSplit)
	if err != nil {
		t.Fatal(err)
	}
	groups, err := SplitGroups(context.Background(), fsys, testSplit)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) < 5 || len(groups) != len(names) {
		t.Fatalf("%d groups, %d lists of names", len(groups), len(names))
	}
	for i, g := range groups {
		want := map[string]bool{}
		for _, n := range names[i] {
			for p := n; p != "."; p = parentDir(p) {
				want[p] = true
			}
		}
		var got []string
		err := fs.WalkDir(Subtree(fsys, g), ".", func(name string, d fs.DirEntry, err error) error {
			if name != "." {
				got = append(got, name)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if g.Entries != len(names[i]) || g.First != names[i][0] || g.Last != names[i][len(names[i])-1] {
			t.Errorf("group %d is %q..%q of %d, its names %q..%q of %d", i, g.First, g.Last, g.Entries, names[i][0], names[i][len(names[i])-1], len(names[i]))
		}
		if len(got) != len(want) || slices.ContainsFunc(got, func(n string) bool { return !want[n] }) {
			t.Errorf("group %d (%q..%q): its subtree holds %d entries, want %d", i, g.First, g.Last, len(got), len(want))
		}
	}
}

func parentDir(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[:i]
		}
	}
	return "."
}

// The split of a tree of many tiny files holds no memory per entry: a
// group is a range of the walk, not a name for each of its entries.
func TestSplitterHoldsNoMemoryPerEntry(t *testing.T) {
	const entries = 50000
	info := fstest.MapFS{"f": &fstest.MapFile{Data: make([]byte, 100), Mode: 0o644, ModTime: time.Unix(0, 0)}}
	fi, err := fs.Stat(info, "f")
	if err != nil {
		t.Fatal(err)
	}
	d := fs.FileInfoToDirEntry(fi)
	before := liveHeap()
	sp := NewSplitter(testSplit)
	for i := range entries {
		sp.Visit(fmt.Sprintf("dir-%d/file-%06d.txt", i/1000, i), d)
	}
	held := liveHeap() - before
	groups, err := sp.Groups()
	if err != nil || len(groups) < 100 {
		t.Fatalf("%d groups, %v", len(groups), err)
	}
	if perEntry := float64(held) / entries; perEntry > 8 {
		t.Errorf("the split holds %d bytes for %d entries (%.1f each) in %d groups, want at most 8 each", held, entries, perEntry, len(groups))
	}
	runtime.KeepAlive(sp)
}

func liveHeap() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
