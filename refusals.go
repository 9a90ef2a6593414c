package blobber

import (
	"errors"
	"fmt"

	"github.com/blobber-dev/blobber/internal/toc"
	"github.com/blobber-dev/blobber/internal/treepath"
)

// refusals judges, from the TOC alone and before anything is fetched or
// written, every entry a pull would refuse: devices and FIFOs, and
// symlinks whose target is absolute or resolves outside the tree (through
// the artifact's own links, as the kernel would). The error names each
// offender (the first treepath.MaxListed, then a count), so that a
// publisher learns of all of them at once.
func refusals(name string, ix *toc.Index) error {
	var unsupported, escaping treepath.List
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
			unsupported.Add(fmt.Sprintf("%s (%s)", e.Name, typeName[e.Type]))
		case toc.TypeSymlink:
			why, err := treepath.LinkRefusal(e.Name, e.LinkName, lookup)
			if err != nil {
				return err
			}
			if why != "" {
				escaping.Add(fmt.Sprintf("%s -> %s", e.Name, e.LinkName))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	var errs []error
	if escaping.Total > 0 {
		errs = append(errs, fmt.Errorf("%s holds %s whose target is absolute or outside the tree: %s: %w",
			name, treepath.Plural(escaping.Total, "symlink", "symlinks"), &escaping, ErrPathTraversal))
	}
	if unsupported.Total > 0 {
		errs = append(errs, fmt.Errorf("%s holds %s that blobber does not create (devices and FIFOs): %s: %w",
			name, treepath.Plural(unsupported.Total, "entry", "entries"), &unsupported, ErrUnsupportedEntry))
	}
	return errors.Join(errs...)
}

var typeName = map[string]string{toc.TypeChar: "a character device", toc.TypeBlock: "a block device", toc.TypeFifo: "a FIFO"}
