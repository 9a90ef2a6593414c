package extract

import (
	"fmt"
	"strings"
)

// LinkLookup tells ResolveLink what stands at a slash-separated name
// relative to the tree's root: ok is false when nothing does (or a
// component on the way is not a directory), and link is the target of a
// symlink, with isLink set.
type LinkLookup func(name string) (link string, isLink, ok bool, err error)

// CheckLinkTarget resolves the symlink name's target the way the kernel
// would from the directory holding name, one component at a time against
// what lookup says the tree holds: symlinks on the way are expanded (at
// most maxHops times), components that do not exist are applied lexically.
// It returns an error wrapping ErrPathTraversal when the target is
// absolute, holds a NUL byte, or climbs above the root at any point.
//
// It is a function of the names alone, so that a pull can judge every link
// of an artifact from its table of contents, a push every link of a tree,
// and an extraction every link against what is on disk, by one rule.
func CheckLinkTarget(name, target string, lookup LinkLookup) error {
	switch {
	case target == "":
		return fmt.Errorf("extract: symlink %q has an empty target", name)
	case strings.IndexByte(target, 0) >= 0:
		return traversalErr(name, "symlink target contains a NUL byte")
	case strings.HasPrefix(target, "/"):
		return traversalErr(name, fmt.Sprintf("symlink target %q is absolute", target))
	}
	escape := func() error {
		return traversalErr(name, fmt.Sprintf("symlink target %q resolves outside the target directory", target))
	}
	var stack []string // resolved real directories from the root down
	if dir, _ := splitName(name); dir != "." {
		stack = strings.Split(dir, "/")
	}
	pending := strings.Split(target, "/")
	hops := 0
	for len(pending) > 0 {
		c := pending[0]
		pending = pending[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(stack) == 0 {
				return escape()
			}
			stack = stack[:len(stack)-1]
			continue
		}
		cand := strings.Join(append(stack, c), "/")
		link, isLink, ok, err := lookup(cand)
		if err != nil {
			return fmt.Errorf("extract: resolving symlink %q: %w", name, err)
		}
		if !ok || !isLink {
			// Missing (a later entry may still create it, which an
			// extraction checks again at the end) or not a link: the
			// rest is lexical from here.
			stack = append(stack, c)
			continue
		}
		hops++
		if hops > maxHops {
			return traversalErr(name, fmt.Sprintf("symlink target %q: too many levels of symbolic links", target))
		}
		if link == "" || strings.HasPrefix(link, "/") {
			// An absolute link on the way leaves the root by definition.
			return escape()
		}
		// The link is relative to the directory holding it, which is
		// exactly stack, so only the pending components change.
		pending = append(strings.Split(link, "/"), pending...)
	}
	return nil
}
