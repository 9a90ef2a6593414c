package blobber

import (
	"io/fs"
	"strings"

	"github.com/blobber-dev/blobber/internal/layer"
	"github.com/blobber-dev/blobber/internal/push"
)

// treeSplit splits the tree as the push's check walks it (layer.Splitter)
// and, when the push has a cache to record its layers in, fingerprints
// each group in that same walk, as push.LayerFingerprint would fingerprint
// the group's subtree: a split push then walks the tree twice, as one
// layer's does (the check, and the builds), not once more per group
// before its build and again after it.
type treeSplit struct {
	sp    *layer.Splitter
	build layer.Options
	// fingerprint is whether the groups are fingerprinted; fps has one
	// per group seen so far, and dirs the directories that lead to the
	// entry visited last, which the subtree of a group that begins there
	// holds before its own entries.
	fingerprint bool
	fps         []*push.LayerFingerprinter
	dirs        []listedEntry
	failed      bool
}

type listedEntry struct {
	name string
	info fs.FileInfo
}

// splitter splits the tree as the push's check walks it, when the options
// ask for a split, fingerprinting its groups when fingerprint is set (the
// push has a cache); nil without a split.
func (po *pushOptions) splitter(fingerprint bool) *treeSplit {
	if !po.split {
		return nil
	}
	return &treeSplit{sp: layer.NewSplitter(layer.DefaultSplit), build: po.build, fingerprint: fingerprint}
}

// Visitor is what the check's walk is to show each entry; nil for a nil
// treeSplit.
func (ts *treeSplit) Visitor() func(name string, d fs.DirEntry) {
	switch {
	case ts == nil:
		return nil
	case !ts.fingerprint:
		return ts.sp.Visit
	}
	return ts.visit
}

func (ts *treeSplit) visit(name string, d fs.DirEntry) {
	ts.sp.Visit(name, d)
	if name == "." || ts.failed {
		return
	}
	info, err := d.Info()
	if err != nil {
		ts.failed = true
		return
	}
	for len(ts.dirs) > 0 && !isUnder(name, ts.dirs[len(ts.dirs)-1].name) {
		ts.dirs = ts.dirs[:len(ts.dirs)-1]
	}
	g := ts.sp.LastGroup()
	for len(ts.fps) <= g {
		// A group's entries are consecutive in the walk: the directories
		// its subtree holds besides its own are those that lead to its
		// first entry.
		f := push.NewLayerFingerprinter(ts.build)
		for _, dir := range ts.dirs {
			f.Add(dir.name, dir.info)
		}
		ts.fps = append(ts.fps, f)
	}
	ts.fps[g].Add(name, info)
	if info.IsDir() {
		ts.dirs = append(ts.dirs, listedEntry{name, info})
	}
}

// isUnder tells whether name is inside the directory dir.
func isUnder(name, dir string) bool {
	return len(name) > len(dir) && name[len(dir)] == '/' && strings.HasPrefix(name, dir)
}

// Groups ends the split: the groups of the tree.
func (ts *treeSplit) Groups() ([]layer.Group, error) { return ts.sp.Groups() }

// fingerprints are the fingerprints of the n groups Groups returned, each
// "" where there is none to record.
func (ts *treeSplit) fingerprints(n int) []string {
	fps := make([]string, n)
	if ts.failed || len(ts.fps) != n {
		return fps
	}
	for i, f := range ts.fps {
		fps[i] = f.Sum()
	}
	return fps
}
