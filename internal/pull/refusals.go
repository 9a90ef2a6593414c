package pull

import (
	"fmt"

	"github.com/blobber-dev/blobber/internal/toc"
	"github.com/blobber-dev/blobber/internal/treepath"
)

// Refusals are the entries a pull refuses, judged from the TOC alone:
// symlinks whose target is absolute or resolves outside the tree (through
// the artifact's own links, as the kernel would), and devices and FIFOs.
// Each list names the first treepath.MaxListed offenders, then a count,
// so that a publisher learns of all of them at once.
type Refusals struct {
	Escaping    treepath.List
	Unsupported treepath.List
}

// Refuse judges every entry of ix before anything is fetched or written.
func Refuse(ix *toc.Index) (Refusals, error) {
	var r Refusals
	lookup := func(n string) (string, bool, bool, error) {
		e, ok := ix.Lookup(n)
		if !ok {
			return "", false, false, nil
		}
		return e.LinkName, e.Type == toc.TypeSymlink, true, nil
	}
	err := ix.Walk(func(e *toc.Entry) error {
		switch e.Type {
		case toc.TypeChar, toc.TypeBlock, toc.TypeFifo:
			r.Unsupported.Add(fmt.Sprintf("%s (%s)", e.Name, typeName[e.Type]))
		case toc.TypeSymlink:
			why, err := treepath.LinkRefusal(e.Name, e.LinkName, lookup)
			if err != nil {
				return err
			}
			if why != "" {
				r.Escaping.Add(fmt.Sprintf("%s -> %s", e.Name, e.LinkName))
			}
		}
		return nil
	})
	return r, err
}

var typeName = map[string]string{toc.TypeChar: "a character device", toc.TypeBlock: "a block device", toc.TypeFifo: "a FIFO"}
