package pull

import (
	"path"

	"github.com/blobber-dev/blobber/internal/match"
	"github.com/blobber-dev/blobber/internal/toc"
)

// Choose lists, in walk order, the entries of ix that sel selects (never
// nil): a
// directory selected (or excluded) passes its verdict to all it holds.
// The root is never listed; parents of what is chosen are not listed
// unless selected themselves (Entries creates them).
func Choose(ix *toc.Index, sel *match.Selector) []*toc.Entry {
	chosen := []*toc.Entry{} // not nil, even when empty: nil stands for every entry
	var walk func(dir *toc.Entry, selected bool)
	walk = func(dir *toc.Entry, selected bool) {
		for _, e := range dir.Children() {
			if sel.Excludes(e.Name) {
				continue
			}
			in := sel.Includes(e.Name) || selected
			if in {
				chosen = append(chosen, e)
			}
			if e.Type == toc.TypeDir {
				walk(e, in)
			}
		}
	}
	walk(ix.Root, false)
	return chosen
}

// parents lists the directories of ix above the chosen entries, each
// once, parents before children, leaving out the root and the entries
// themselves.
func parents(ix *toc.Index, chosen []*toc.Entry) []*toc.Entry {
	seen := map[string]bool{".": true}
	for _, e := range chosen {
		seen[e.Name] = true
	}
	var out []*toc.Entry
	var add func(name string)
	add = func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		add(path.Dir(name))
		if e, ok := ix.Lookup(name); ok {
			out = append(out, e)
		}
	}
	for _, e := range chosen {
		add(path.Dir(e.Name))
	}
	return out
}
