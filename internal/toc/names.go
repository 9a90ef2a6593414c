package toc

import (
	"fmt"
	"path"
	"strings"
)

// Limits no artifact may pass, whatever the caller's Limits: they keep a
// single entry from costing unbounded memory or time.
const (
	MaxChunkBytes = 64 << 20 // a chunk, and where it starts in its member
	MaxNameBytes  = 4096     // a path, as PATH_MAX
	MaxDepth      = 256      // directory levels
)

// CleanName turns a TOC or tar name into a clean relative path ("." for
// the root), refusing absolute paths, "..", NUL and names that are not
// already clean (which could alias another entry).
func CleanName(name string) (string, error) {
	n := strings.TrimPrefix(name, "./")
	n = strings.TrimSuffix(n, "/")
	switch {
	case n == "" || n == ".":
		return ".", nil
	case strings.ContainsRune(n, 0), strings.HasPrefix(n, "/"), path.Clean(n) != n,
		n == "..", strings.HasPrefix(n, "../"):
		return "", fmt.Errorf("%w: %q", ErrUnsafeName, name)
	case len(n) > MaxNameBytes || strings.Count(n, "/") >= MaxDepth:
		return "", fmt.Errorf("%w: a name of %d bytes and %d levels (at most %d and %d)", ErrLimit, len(n), strings.Count(n, "/")+1, MaxNameBytes, MaxDepth)
	}
	for c := range strings.SplitSeq(n, "/") {
		if len(c) > 255 {
			return "", fmt.Errorf("%w: a name component of %d bytes (at most 255)", ErrLimit, len(c))
		}
	}
	return n, nil
}

func cleanOrEmpty(name string) string {
	n, err := CleanName(name)
	if err != nil {
		return ""
	}
	return n
}
