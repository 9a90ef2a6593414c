package layer

import (
	"context"
	"fmt"
	"testing"
	"testing/fstest"
)

// sizedTree is a tree of files of size bytes each, spread over dirs
// directories (the files share one slice: only their sizes matter to a
// split).
func sizedTree(files, dirs, size int) fstest.MapFS {
	data := make([]byte, size)
	fsys := fstest.MapFS{}
	for i := range files {
		fsys[fmt.Sprintf("dir-%03d/file-%05d.txt", i%dirs, i)] = &fstest.MapFile{Data: data, Mode: 0o644}
	}
	return fsys
}

// A tree of 10,000 files of 4 KiB (the benchmark's small dataset, some
// 45 MiB with the entries' own weight), or any other tree lighter than
// MaxGroup without a file of its own layer, stays one layer under the
// default limits wherever the hashes of its paths fall: a split of it
// would cost a first push and pull per-layer requests and registry work,
// for a re-push of no fewer bytes than MaxGroup.
func TestDefaultSplitKeepsTensOfMiBOneLayer(t *testing.T) {
	for _, tc := range []struct{ files, dirs, size int }{
		{10000, 100, 4 << 10}, {10000, 7, 5 << 10}, {2000, 10, 30 << 10}, {600, 3, 100 << 10}, {120, 1, 500 << 10},
	} {
		groups, err := SplitGroups(context.Background(), sizedTree(tc.files, tc.dirs, tc.size), DefaultSplit)
		if err != nil {
			t.Fatal(err)
		}
		if len(groups) != 1 || groups[0].Entries != tc.files+tc.dirs {
			t.Errorf("%d files of %d bytes: %d groups, want one of every entry", tc.files, tc.size, len(groups))
		}
	}
}

// With a file of its own layer, the rest of a light tree is grouped as
// ever: the rule is for a tree that would otherwise be one layer.
func TestSplitLightTreeWithOwnLayerFile(t *testing.T) {
	fsys := sizedTree(600, 3, 1000)
	fsys["big"] = &fstest.MapFile{Data: make([]byte, testSplit.OwnLayer), Mode: 0o644}
	groups, err := SplitGroups(context.Background(), fsys, testSplit)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) < 3 {
		t.Fatalf("%d groups, want the big file's and more than one of the rest", len(groups))
	}
}

// A tree of 200 MiB of small files splits into groups of at least
// MinGroup (16 MiB) each but the last, and at most MaxGroup: a handful of
// layers, each of a size whose own requests and registry work are small
// next to its upload.
func TestDefaultSplitMakesLargeGroups(t *testing.T) {
	groups, err := SplitGroups(context.Background(), sizedTree(3200, 50, 64<<10), DefaultSplit)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) < 2 || len(groups) > 200/16 {
		t.Fatalf("%d groups, want from 2 to %d", len(groups), 200/16)
	}
	for i, g := range groups[:len(groups)-1] {
		if g.Bytes < 16<<20-64<<10 || g.Bytes > DefaultSplit.MaxGroup {
			t.Errorf("group %d holds %d bytes, want from 16 MiB to %d", i, g.Bytes, DefaultSplit.MaxGroup)
		}
	}
}
