package layer

import (
	"cmp"
	"context"
	"hash/fnv"
	"io/fs"
	"path"
	"slices"
	"strings"
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
	sp := NewSplitter(lim)
	var names []string
	var group []int
	err := walkSplit(ctx, fsys, sp, func(name string) {
		names = append(names, name)
		group = append(group, sp.LastGroup())
	})
	if err != nil {
		return nil, err
	}
	groups, err := sp.Groups()
	if err != nil {
		return nil, err
	}
	out := make([][]string, len(groups))
	for i, name := range names {
		g := 0
		if len(groups) > 1 {
			g = group[i]
		}
		out[g] = append(out[g], name)
	}
	return out, nil
}

// Group is the entries of one layer of a split tree: those from First to
// Last in the walk's order, which are consecutive in it. A group is held
// as that range, not as a name for each entry, so that the split of a
// tree of many files costs no memory per entry; Subtree selects its
// entries from the range. Bytes is the bytes of its regular files: what
// its build reads.
type Group struct {
	First, Last string
	Entries     int
	Bytes       int64
}

// SplitGroups is Split, with each group's bytes.
func SplitGroups(ctx context.Context, fsys fs.FS, lim SplitLimits) ([]Group, error) {
	sp := NewSplitter(lim)
	if err := walkSplit(ctx, fsys, sp, nil); err != nil {
		return nil, err
	}
	return sp.Groups()
}

// walkSplit shows sp every entry of fsys, and each one then to visited
// when it is not nil.
func walkSplit(ctx context.Context, fsys fs.FS, sp *Splitter, visited func(name string)) error {
	return fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		sp.Visit(name, d)
		if sp.err == nil && visited != nil && name != "." {
			visited(name)
		}
		return sp.err
	})
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
		sp.groups = append(sp.groups, Group{First: name, Last: name, Entries: 1, Bytes: size})
		sp.last = len(sp.groups) - 1
		return
	}
	sp.last = len(sp.groups)
	if sp.cur.Entries == 0 {
		sp.cur.First = name
	}
	sp.cur.Last = name
	sp.cur.Entries++
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
	if sp.cur.Entries > 0 {
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
		whole := Group{First: groups[0].First, Last: groups[len(groups)-1].Last}
		for _, g := range groups {
			whole.Entries += g.Entries
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

// Subtree is fsys seen with only the entries of the group g and the
// directories that lead to them: the tree g's layer is built from.
func Subtree(fsys fs.FS, g Group) fs.FS {
	return &subtree{fsys: fsys, first: g.First, last: g.Last}
}

// subtree holds the entries from first to last in the walk's order, and
// the directories that lead to first: a directory that leads to any entry
// of the range is in the range itself or leads to first, as the entries
// under a directory follow it in the walk.
type subtree struct {
	fsys        fs.FS
	first, last string
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
	return slices.DeleteFunc(entries, func(e fs.DirEntry) bool { return !s.holds(path.Join(name, e.Name())) }), nil
}

// holds tells whether the entry name is in the subtree.
func (s *subtree) holds(name string) bool {
	return walkCompare(name, s.last) <= 0 && (walkCompare(name, s.first) >= 0 || strings.HasPrefix(s.first, name+"/"))
}

// walkCompare orders paths as fs.WalkDir visits them: a directory before
// what it holds, and the entries of a directory by name. It compares them
// byte by byte with the separator below every other byte, so that a path
// comes before its own longer siblings' ("a/z" before "a-b", and "a"
// before "a-b" and "a/z").
func walkCompare(a, b string) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] == b[i] {
			continue
		}
		switch {
		case a[i] == '/':
			return -1
		case b[i] == '/':
			return 1
		case a[i] < b[i]:
			return -1
		}
		return 1
	}
	return cmp.Compare(len(a), len(b))
}
