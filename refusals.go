package blobber

import (
	"errors"
	"fmt"
	"strings"

	"github.com/blobber-dev/blobber/internal/extract"
	"github.com/blobber-dev/blobber/internal/toc"
)

// maxListed is how many offending entries an error names before it only
// counts the rest.
const maxListed = 20

// refusals judges, from the TOC alone and before anything is fetched or
// written, every entry a pull would refuse: devices and FIFOs, and
// symlinks whose target is absolute or resolves outside the tree (through
// the artifact's own links, as the kernel would). The error names each
// offender (the first maxListed, then a count), so that a publisher learns
// of all of them at once.
func refusals(name string, ix *toc.Index) error {
	var unsupported, escaping []string
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
			unsupported = append(unsupported, fmt.Sprintf("%s (%s)", e.Name, typeName[e.Type]))
		case toc.TypeSymlink:
			if err := extract.CheckLinkTarget(e.Name, e.LinkName, lookup); err != nil {
				if !errors.Is(err, extract.ErrPathTraversal) {
					return err
				}
				escaping = append(escaping, fmt.Sprintf("%s -> %s", e.Name, e.LinkName))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	var errs []error
	if len(escaping) > 0 {
		errs = append(errs, fmt.Errorf("%s holds %s whose target is absolute or outside the tree: %s: %w",
			name, plural(len(escaping), "symlink"), listed(escaping), ErrPathTraversal))
	}
	if len(unsupported) > 0 {
		errs = append(errs, fmt.Errorf("%s holds %s that blobber does not create (devices and FIFOs): %s: %w",
			name, plural(len(unsupported), "entry"), listed(unsupported), ErrUnsupportedEntry))
	}
	return errors.Join(errs...)
}

var typeName = map[string]string{toc.TypeChar: "a character device", toc.TypeBlock: "a block device", toc.TypeFifo: "a FIFO"}

// listed is names joined, the first maxListed of them and then a count.
func listed(names []string) string {
	if len(names) <= maxListed {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:maxListed], ", ") + fmt.Sprintf(", and %d more", len(names)-maxListed)
}

// plural is "1 thing" or "n things".
func plural(n int, thing string) string {
	switch {
	case n == 1:
		return "1 " + thing
	case strings.HasSuffix(thing, "y"):
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(thing, "y"))
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
