package layer

import (
	"context"
	"hash/fnv"
	"io/fs"
	"path"
	"slices"
)

// SplitLimits shape how Split cuts a tree into layers.
type SplitLimits struct {
	// OwnLayer: a file of at least this many bytes gets a layer of its own.
	OwnLayer int64
	// MinGroup, TargetGroup and MaxGroup bound the bytes of a group of
	// smaller entries: no boundary before MinGroup, one expected about
	// every TargetGroup, and always one at MaxGroup.
	MinGroup, TargetGroup, MaxGroup int64
}

// DefaultSplit keeps trees of some tens of MiB in one layer, and gives a
// file large enough to be worth its own upload a layer of its own. Groups
// are large because each layer costs its own requests and blob work in
// the registry on every push and pull: a first split push must cost about
// what one layer does, while a change re-uploads at most MaxGroup.
var DefaultSplit = SplitLimits{OwnLayer: 32 << 20, MinGroup: 16 << 20, TargetGroup: 32 << 20, MaxGroup: 64 << 20}

// entryCost is what an entry weighs in a group besides its content: its
// tar header and TOC entry, so that a tree of empty files splits too.
const entryCost = 512

// Split cuts the tree into groups of entry names, each group one layer,
// in the walk's (lexical) order. It is deterministic, and stable under
// small changes: a file at or above OwnLayer is a group of its own, and
// the smaller entries between two such files are cut where the hash of an
// entry's path (weighted by its size) meets a condition, so that adding,
// removing or editing one entry moves no boundary but its own: only its
// group changes, or two when it is itself a boundary. A directory is an
// entry of the group it falls in; the layers of the entries under it hold
// it too (the readers merge directories that agree). A tree of no file at
// or above OwnLayer that weighs less than MaxGroup is one group, wherever
// the hashes fall: a change of it re-uploads no more than a change of one
// group of a larger tree may. One group means one layer, built as without
// a split.
func Split(ctx context.Context, fsys fs.FS, lim SplitLimits) ([][]string, error) {
	groups, err := SplitGroups(ctx, fsys, lim)
	names := make([][]string, len(groups))
	for i, g := range groups {
		names[i] = g.Names
	}
	return names, err
}

// Group is the entries of one layer of a split tree, in walk order, and
// the bytes of its regular files: what its build reads.
type Group struct {
	Names []string
	Bytes int64
}

// SplitGroups is Split, with each group's bytes.
func SplitGroups(ctx context.Context, fsys fs.FS, lim SplitLimits) ([]Group, error) {
	sp := NewSplitter(lim)
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		sp.Visit(name, d)
		return sp.err
	})
	if err != nil {
		return nil, err
	}
	return sp.Groups()
}

// A Splitter cuts a tree into groups as a walk shows it the entries, in
// fs.WalkDir's order, so that a walk done for another reason (the push's
// check) splits the tree too: every walk stats every entry.
type Splitter struct {
	lim       SplitLimits
	groups    []Group
	cur       Group
	curBytes  int64
	treeBytes int64 // the weight of the tree's entries, while none is a group of its own
	ownLayers bool
	last      int // the group of the entry visited last
	err       error
}

// NewSplitter starts a split with these limits.
func NewSplitter(lim SplitLimits) *Splitter { return &Splitter{lim: lim} }

// Visitor is Visit, or nil for a nil Splitter.
func (sp *Splitter) Visitor() func(name string, d fs.DirEntry) {
	if sp == nil {
		return nil
	}
	return sp.Visit
}

// Visit adds the entry name; the root (".") is not an entry of a group.
func (sp *Splitter) Visit(name string, d fs.DirEntry) {
	if sp.err != nil || name == "." {
		return
	}
	var size int64
	if d.Type().IsRegular() {
		info, err := d.Info()
		if err != nil {
			sp.err = err
			return
		}
		size = info.Size()
	}
	lim := sp.lim
	if size >= lim.OwnLayer {
		sp.ownLayers = true
		sp.closeGroup()
		sp.groups = append(sp.groups, Group{Names: []string{name}, Bytes: size})
		sp.last = len(sp.groups) - 1
		return
	}
	sp.last = len(sp.groups)
	sp.cur.Names = append(sp.cur.Names, name)
	sp.cur.Bytes += size
	sp.curBytes += size + entryCost
	sp.treeBytes += size + entryCost
	if sp.curBytes >= lim.MaxGroup || (sp.curBytes >= lim.MinGroup && boundary(name, size, lim.TargetGroup)) {
		sp.closeGroup()
	}
}

// LastGroup is the index, among the groups Groups returns when the tree
// makes more than one, of the group of the entry Visit was given last.
func (sp *Splitter) LastGroup() int { return sp.last }

func (sp *Splitter) closeGroup() {
	if len(sp.cur.Names) > 0 {
		sp.groups = append(sp.groups, sp.cur)
	}
	sp.cur, sp.curBytes = Group{}, 0
}

// Groups ends the split: the groups of the entries visited.
func (sp *Splitter) Groups() ([]Group, error) {
	if sp.err != nil {
		return nil, sp.err
	}
	sp.closeGroup()
	groups := sp.groups
	if len(groups) > 1 && !sp.ownLayers && sp.treeBytes < sp.lim.MaxGroup {
		whole := Group{}
		for _, g := range groups {
			whole.Names = append(whole.Names, g.Names...)
			whole.Bytes += g.Bytes
		}
		groups = []Group{whole}
	}
	sp.groups = nil
	return groups, nil
}

// boundary tells whether a group ends after the entry name of size bytes:
// with a chance of its weight in TargetGroup, drawn from the hash of its
// path, so that the same entry always decides the same way.
func boundary(name string, size, target int64) bool {
	h := fnv.New64a()
	h.Write([]byte(name))
	weight := uint64(size + entryCost)
	if target <= 0 || weight >= uint64(target) {
		return true
	}
	return h.Sum64()%uint64(target) < weight
}

// Subtree is fsys seen with only the named entries and the directories
// that lead to them: the tree one group's layer is built from.
func Subtree(fsys fs.FS, names []string) fs.FS {
	keep := make(map[string]bool, 2*len(names))
	for _, n := range names {
		for p := n; p != "." && !keep[p]; p = path.Dir(p) {
			keep[p] = true
		}
	}
	return &subtree{fsys: fsys, keep: keep}
}

type subtree struct {
	fsys fs.FS
	keep map[string]bool
}

var (
	_ fs.ReadDirFS  = (*subtree)(nil)
	_ fs.StatFS     = (*subtree)(nil)
	_ fs.ReadLinkFS = (*subtree)(nil)
	_ RegularOpener = (*subtree)(nil)
)

func (s *subtree) Open(name string) (fs.File, error)        { return s.fsys.Open(name) }
func (s *subtree) OpenRegular(name string) (fs.File, error) { return openRegular(s.fsys, name) }
func (s *subtree) Stat(name string) (fs.FileInfo, error)    { return fs.Stat(s.fsys, name) }
func (s *subtree) Lstat(name string) (fs.FileInfo, error)   { return fs.Lstat(s.fsys, name) }
func (s *subtree) ReadLink(name string) (string, error)     { return fs.ReadLink(s.fsys, name) }

// ReadDir lists only what the group holds: a walk reads nothing else.
func (s *subtree) ReadDir(name string) ([]fs.DirEntry, error) {
	entries, err := fs.ReadDir(s.fsys, name)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(entries, func(e fs.DirEntry) bool { return !s.keep[path.Join(name, e.Name())] }), nil
}
