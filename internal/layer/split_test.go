package layer

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

var testSplit = SplitLimits{OwnLayer: 64 << 10, MinGroup: 8 << 10, TargetGroup: 32 << 10, MaxGroup: 128 << 10}

func splitTree(files int) fstest.MapFS {
	fsys := fstest.MapFS{}
	for i := range files {
		fsys[fmt.Sprintf("d%02d/f%04d", i%17, i)] = &fstest.MapFile{Data: []byte(strings.Repeat("x", 1000+i%3000)), Mode: 0o644}
	}
	return fsys
}

func mustSplit(t *testing.T, fsys fstest.MapFS) [][]string {
	t.Helper()
	groups, err := Split(context.Background(), fsys, testSplit)
	if err != nil {
		t.Fatal(err)
	}
	return groups
}

// changedGroups counts the groups of b that a does not have.
func changedGroups(a, b [][]string) int {
	n := 0
	for _, g := range b {
		if !slices.ContainsFunc(a, func(h []string) bool { return slices.Equal(g, h) }) {
			n++
		}
	}
	return n
}

// The split is deterministic, covers every entry once, and a change of
// one entry (added, removed, grown) changes at most two groups.
func TestSplitStable(t *testing.T) {
	base := splitTree(600)
	a, b := mustSplit(t, base), mustSplit(t, base)
	if len(a) < 5 || !slices.EqualFunc(a, b, slices.Equal) {
		t.Fatalf("%d groups, then %d", len(a), len(b))
	}
	seen := map[string]bool{}
	for _, g := range a {
		for _, n := range g {
			if seen[n] {
				t.Fatalf("%s in two groups", n)
			}
			seen[n] = true
		}
	}
	if len(seen) != 600+17 {
		t.Fatalf("%d entries in groups", len(seen))
	}
	// A name's group changes when it is added or removed; content
	// changes move a boundary only where the edited entry is one.
	edits := map[string]func(fstest.MapFS){
		"add":    func(f fstest.MapFS) { f["d05/f0100a"] = &fstest.MapFile{Data: []byte("new"), Mode: 0o644} },
		"remove": func(f fstest.MapFS) { delete(f, "d11/f0300") },
		"grow": func(f fstest.MapFS) {
			f["d08/f0450"] = &fstest.MapFile{Data: []byte(strings.Repeat("y", 2500)), Mode: 0o644}
		},
		"same": func(f fstest.MapFS) {
			f["d08/f0450"] = &fstest.MapFile{Data: []byte(strings.Repeat("z", len(f["d08/f0450"].Data))), Mode: 0o644}
		},
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			changed := fstest.MapFS{}
			for k, v := range base {
				changed[k] = v
			}
			edit(changed)
			n := changedGroups(a, mustSplit(t, changed))
			if n > 2 || (n == 0 && (name == "add" || name == "remove")) || (n > 0 && name == "same") {
				t.Errorf("%d groups changed", n)
			}
		})
	}
}

// A large file is a group of its own; a small tree is one group.
func TestSplitShapes(t *testing.T) {
	small := splitTree(3)
	if g := mustSplit(t, small); len(g) != 1 {
		t.Fatalf("small tree: %d groups", len(g))
	}
	big := splitTree(3)
	big["d00/large"] = &fstest.MapFile{Data: make([]byte, 64<<10), Mode: 0o644}
	g := mustSplit(t, big)
	if !slices.ContainsFunc(g, func(h []string) bool { return slices.Equal(h, []string{"d00/large"}) }) {
		t.Fatalf("large file not alone: %v", g)
	}
}
