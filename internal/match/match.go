// Package match holds the one pattern language of push's exclusions and
// pull's selections (docs/patterns.md): doublestar globs matched against
// slash paths from the tree's root, and gitignore lines for .blobberignore.
package match

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
)

// ErrBadPattern is a glob that doublestar cannot parse.
var ErrBadPattern = doublestar.ErrBadPattern

// Validate returns an error naming the first of patterns that is not a
// valid glob.
func Validate(patterns []string) error {
	for _, p := range patterns {
		if !doublestar.ValidatePattern(p) {
			return fmt.Errorf("%q is not a valid pattern: %w", p, ErrBadPattern)
		}
	}
	return nil
}

// Glob reports whether name, a slash path from the tree's root, matches
// pattern: "*" within one name, "**" across directories. An invalid
// pattern matches nothing (Validate refuses it first).
func Glob(pattern, name string) bool {
	ok, _ := doublestar.Match(pattern, name)
	return ok
}

// AnyGlob is the first of patterns that name matches, or "".
func AnyGlob(patterns []string, name string) (string, bool) {
	for _, p := range patterns {
		if Glob(p, name) {
			return p, true
		}
	}
	return "", false
}

// CleanPath makes a user's PATH argument a clean slash path from the
// tree's root ("./a/b/" is "a/b"), or fails naming it.
func CleanPath(p string) (string, error) {
	clean := path.Clean(strings.TrimPrefix(p, "/"))
	if p == "" || !fs.ValidPath(clean) {
		return "", fmt.Errorf("%q is not a path inside the artifact", p)
	}
	return clean, nil
}

// Ignore is a tree's ignore file: gitignore lines, the last that matches
// deciding, "!" re-including.
type Ignore struct{ m gitignore.Matcher }

// ParseIgnore reads an ignore file's lines; nil when none is a pattern.
func ParseIgnore(data []byte) (*Ignore, error) {
	var patterns []gitignore.Pattern
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		patterns = append(patterns, gitignore.ParsePattern(line, nil))
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(patterns) == 0 {
		return nil, nil
	}
	return &Ignore{gitignore.NewMatcher(patterns)}, nil
}

// Match reports whether the entry name (a slash path) is ignored.
func (ig *Ignore) Match(name string, isDir bool) bool {
	return ig != nil && ig.m.Match(strings.Split(name, "/"), isDir)
}
