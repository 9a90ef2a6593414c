// Package treepath holds the rules for names inside a tree that push,
// pull and extraction must apply alike: where a symlink leads, and how a
// list of offending entries is told to the user.
package treepath

import (
	"fmt"
	"strings"
)

// MaxHops matches Linux's MAXSYMLINKS: a target needing more expansions
// than that would fail to resolve for the kernel too.
const MaxHops = 40

// Lookup tells LinkRefusal what stands at a slash-separated name relative
// to the tree's root: ok is false when nothing does (or a component on the
// way is not a directory), and link is the target of a symlink, with
// isLink set.
type Lookup func(name string) (link string, isLink, ok bool, err error)

// LinkRefusal says in a few words why the symlink name -> target would
// reach outside the tree ("absolute link", "link out of the tree", …), or
// "" when it stays inside. It resolves target the way the kernel
// would from the directory holding name, one component at a time against
// what lookup says the tree holds: symlinks on the way are expanded (at
// most MaxHops times), components that do not exist are applied
// lexically. An absolute target, a NUL byte, or climbing above the root at
// any point is a refusal.
//
// It is a function of the names alone, so that a pull judges every link
// of an artifact from its table of contents, a push every link of a tree,
// and an extraction every link against what is on disk, by one rule.
func LinkRefusal(name, target string, lookup Lookup) (string, error) {
	_, why, err := Resolve(name, target, lookup)
	return why, err
}

// Resolve is LinkRefusal that also says where the link leads when it stays
// inside: the slash-separated name, relative to the root ("." for the root
// itself), with every link on the way expanded; components that do not
// exist are kept as they are.
func Resolve(name, target string, lookup Lookup) (resolved, why string, err error) {
	switch {
	case target == "":
		return "", "empty target", nil
	case strings.IndexByte(target, 0) >= 0:
		return "", "NUL in target", nil
	case strings.HasPrefix(target, "/"):
		return "", "absolute link", nil
	}
	const outside = "link out of the tree"
	var stack []string // resolved real directories from the root down
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		stack = strings.Split(name[:i], "/")
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
				return "", outside, nil
			}
			stack = stack[:len(stack)-1]
			continue
		}
		cand := strings.Join(append(stack, c), "/")
		link, isLink, ok, err := lookup(cand)
		if err != nil {
			return "", "", fmt.Errorf("resolving symlink %q: %w", name, err)
		}
		if !ok || !isLink {
			// Missing (a later entry may still create it, which an
			// extraction checks again at the end) or not a link: the
			// rest is lexical from here.
			stack = append(stack, c)
			continue
		}
		if hops++; hops > MaxHops {
			return "", "too many levels of links", nil
		}
		if link == "" || strings.HasPrefix(link, "/") {
			// An absolute link on the way leaves the root by definition.
			return "", outside + ", through an absolute link", nil
		}
		// The link is relative to the directory holding it, which is
		// exactly stack, so only the pending components change.
		pending = append(strings.Split(link, "/"), pending...)
	}
	if len(stack) == 0 {
		return ".", "", nil
	}
	return strings.Join(stack, "/"), "", nil
}
