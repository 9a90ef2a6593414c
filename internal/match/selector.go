package match

import "fmt"

// Selection names entries of a tree: PATHs (an entry and, for a
// directory, all it holds), Include globs (an entry they match and, for a
// directory, all it holds) and Exclude globs (the same, left out, which
// wins). With neither Paths nor Include, everything not excluded is
// selected.
type Selection struct {
	Paths, Include, Exclude []string
}

// Selector decides, entry by entry, what a Selection selects, and
// remembers which of its paths and include patterns selected something.
// Callers walk the tree from the root and let a directory's verdict pass
// to what it holds.
type Selector struct {
	paths, include, exclude []string
	hits                    map[string]bool
}

// Compile checks s (every path inside the tree, every glob valid) and
// returns its selector.
func (s Selection) Compile() (*Selector, error) {
	sel := &Selector{include: s.Include, exclude: s.Exclude, hits: map[string]bool{}}
	for _, p := range s.Paths {
		clean, err := CleanPath(p)
		if err != nil {
			return nil, err
		}
		sel.paths = append(sel.paths, clean)
	}
	if err := Validate(s.Include); err != nil {
		return nil, fmt.Errorf("include: %w", err)
	}
	if err := Validate(s.Exclude); err != nil {
		return nil, fmt.Errorf("exclude: %w", err)
	}
	return sel, nil
}

// Everything reports whether only exclusions narrow the selection.
func (s *Selector) Everything() bool { return len(s.paths) == 0 && len(s.include) == 0 }

// Excludes reports whether the entry name itself matches an exclude glob.
func (s *Selector) Excludes(name string) bool {
	_, ok := AnyGlob(s.exclude, name)
	return ok
}

// Includes reports whether the entry name itself is one of the paths or
// matches an include glob, and records every one that does.
func (s *Selector) Includes(name string) bool {
	if s.Everything() {
		return true
	}
	in := false
	for _, p := range s.paths {
		if p == name || p == "." {
			s.hits[p], in = true, true
		}
	}
	for _, g := range s.include {
		if Glob(g, name) {
			s.hits[g], in = true, true
		}
	}
	return in
}

// Unmatched lists the paths, then the include globs, that selected
// nothing so far.
func (s *Selector) Unmatched() []string {
	var out []string
	for _, p := range append(append([]string(nil), s.paths...), s.include...) {
		if !s.hits[p] {
			out = append(out, p)
		}
	}
	return out
}
