package treepath_test

import (
	"testing"

	"github.com/blobber-dev/blobber/internal/treepath"
)

// The rule resolves through the tree's own links as the kernel would,
// not lexically: "in/../.." leaves the tree when in is a link to d.
func TestLinkRefusal(t *testing.T) {
	links := map[string]string{"in": "d", "up": "..", "abs": "/etc", "loop": "loop/x"}
	dirs := map[string]bool{"d": true, "d/e": true}
	lookup := func(name string) (string, bool, bool, error) {
		if l, ok := links[name]; ok {
			return l, true, true, nil
		}
		return "", false, dirs[name], nil
	}
	for _, tt := range []struct{ name, target, want string }{
		{"l", "d/e", ""},
		{"d/e/l", "../../d", ""},
		{"l", "missing/../d", ""},
		{"l", "", "empty target"},
		{"l", "a\x00b", "NUL in target"},
		{"l", "/etc/passwd", "absolute link"},
		{"l", "../x", "link out of the tree"},
		{"d/e/l", "../../../x", "link out of the tree"},
		{"l", "in/../..", "link out of the tree"},
		{"l", "in/..", ""},
		{"d/l", "up/x", ""}, // d/up does not exist: lexical, inside
		{"l", "up/x", "link out of the tree"},
		{"l", "abs/x", "link out of the tree, through an absolute link"},
		{"l", "loop", "too many levels of links"},
	} {
		got, err := treepath.LinkRefusal(tt.name, tt.target, lookup)
		if err != nil || got != tt.want {
			t.Errorf("LinkRefusal(%q -> %q) = %q, %v; want %q", tt.name, tt.target, got, err, tt.want)
		}
	}
}

func TestListNamesTwentyAndCounts(t *testing.T) {
	var l treepath.List
	for _, n := range []string{"a", "b"} {
		l.Add(n)
	}
	if got := l.String(); got != "a, b" {
		t.Errorf("two: %q", got)
	}
	for range 23 {
		l.Add("x")
	}
	if l.Total != 25 || len(l.Names) != treepath.MaxListed {
		t.Errorf("25 added: %d named of %d", len(l.Names), l.Total)
	}
	if got := l.String(); got[len(got)-len(", and 5 more"):] != ", and 5 more" {
		t.Errorf("25 added: %q", got)
	}
}
