package pull

import (
	"fmt"

	"github.com/blobber-dev/blobber/internal/toc"
	"github.com/blobber-dev/blobber/internal/treepath"
)

// Refusals are the entries a pull refuses, judged from the TOC alone:
// symlinks whose target is absolute or resolves outside the tree (through
// the artifact's own links, as the kernel would), devices and FIFOs, names
// the target's file system cannot hold, and names it takes for one file.
// Each list names the first treepath.MaxListed offenders, then a count,
// so that a publisher learns of all of them at once.
type Refusals struct {
	Escaping    treepath.List
	Unsupported treepath.List
	Unholdable  treepath.List // "name (why)"
	Colliding   treepath.List // "first and second"
}

// Target is what Refuse knows of the directory a pull writes into.
type Target struct {
	Rules treepath.Rules // the file system's (extract.ProbeRules)
	// PathLen is the directory's absolute path in UTF-16 code units, for
	// Rules.MaxPath.
	PathLen int
}

// Refuse judges every entry of ix before anything is fetched or written.
func Refuse(ix *toc.Index, target Target) (Refusals, error) {
	return refuse(ix, target, nil)
}

// RefuseChosen judges the entries Entries would write for chosen: those
// and the directories above them. Symlinks still resolve through the
// whole artifact, as they will once written.
func RefuseChosen(ix *toc.Index, chosen []*toc.Entry, target Target) (Refusals, error) {
	keep := map[*toc.Entry]bool{}
	for _, e := range append(parents(ix, chosen), chosen...) {
		keep[e] = true
	}
	return refuse(ix, target, keep)
}

// refuse judges the entries of ix in keep, or all of them if keep is nil.
func refuse(ix *toc.Index, target Target, keep map[*toc.Entry]bool) (Refusals, error) {
	var r Refusals
	collisions := treepath.NewCollisions(target.Rules)
	lookup := func(n string) (string, bool, bool, error) {
		e, ok := ix.Lookup(n)
		if !ok {
			return "", false, false, nil
		}
		return e.LinkName(), e.Type == toc.TypeSymlink, true, nil
	}
	err := ix.Walk(func(e *toc.Entry) error {
		if keep != nil && !keep[e] {
			return nil
		}
		if why := target.Rules.NameProblem(e.Name, target.PathLen); why != "" {
			r.Unholdable.Add(fmt.Sprintf("%s (%s)", e.Name, why))
		}
		collisions.Add(e.Name)
		switch e.Type {
		case toc.TypeChar, toc.TypeBlock, toc.TypeFifo:
			r.Unsupported.Add(fmt.Sprintf("%s (%s)", e.Name, typeName[e.Type]))
		case toc.TypeSymlink:
			why, err := treepath.LinkRefusal(e.Name, e.LinkName(), lookup)
			if err != nil {
				return err
			}
			if why != "" {
				r.Escaping.Add(fmt.Sprintf("%s -> %s", e.Name, e.LinkName()))
			}
		}
		return nil
	})
	r.Colliding = collisions.Found
	return r, err
}

var typeName = map[toc.EntryType]string{toc.TypeChar: "a character device", toc.TypeBlock: "a block device", toc.TypeFifo: "a FIFO"}
