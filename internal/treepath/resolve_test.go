package treepath_test

import (
	"testing"

	"github.com/blobber-dev/blobber/internal/treepath"
)

// Resolve says where a link inside the tree leads, every link on the way
// expanded.
func TestResolve(t *testing.T) {
	links := map[string]string{"in": "d", "d/e/back": "../..", "d/f": "e/file"}
	dirs := map[string]bool{"d": true, "d/e": true, "d/e/file": true}
	lookup := func(name string) (string, bool, bool, error) {
		if l, ok := links[name]; ok {
			return l, true, true, nil
		}
		return "", false, dirs[name], nil
	}
	for _, tt := range []struct{ name, target, want string }{
		{"l", "d/e", "d/e"},
		{"l", "in/e/file", "d/e/file"},
		{"x/l", "../in", "d"},
		{"l", "d/f", "d/e/file"},
		{"l", "d/e/back", "."},
		{"l", "in/e/back/in/e", "d/e"},
		{"l", "missing/x", "missing/x"},
	} {
		got, why, err := treepath.Resolve(tt.name, tt.target, lookup)
		if err != nil || why != "" || got != tt.want {
			t.Errorf("Resolve(%q -> %q) = %q, %q, %v; want %q", tt.name, tt.target, got, why, err, tt.want)
		}
	}
}
