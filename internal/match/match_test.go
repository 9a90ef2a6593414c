package match

import (
	"errors"
	"slices"
	"testing"
)

// walk is how callers use a Selector: from the root, a directory's
// verdict passing to what it holds.
func walk(s *Selector, tree []string) []string {
	var out []string
	chosen := map[string]bool{}
	dropped := map[string]bool{}
	for _, name := range tree { // parents before children
		parent := ""
		if i := lastSlash(name); i >= 0 {
			parent = name[:i]
		}
		if dropped[parent] || s.Excludes(name) {
			dropped[name] = true
			continue
		}
		if s.Includes(name) || chosen[parent] {
			chosen[name] = true
			out = append(out, name)
		}
	}
	return out
}

func lastSlash(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}

var tree = []string{"a", "a/b", "a/b/c.log", "a/b/d.txt", "a/cache", "a/cache/x", "app.log", "cache", "cache/y", "cache.txt"}

func TestSelector(t *testing.T) {
	for _, tc := range []struct {
		name string
		sel  Selection
		want []string
	}{
		{"everything", Selection{}, tree},
		{"star stays in one name", Selection{Include: []string{"*.log"}}, []string{"app.log"}},
		{"doublestar crosses directories", Selection{Include: []string{"**/*.log"}}, []string{"a/b/c.log", "app.log"}},
		{"a directory stands for what it holds", Selection{Paths: []string{"./a/b/"}}, []string{"a/b", "a/b/c.log", "a/b/d.txt"}},
		{"exclude wins", Selection{Paths: []string{"a"}, Exclude: []string{"a/cache", "**/*.log"}}, []string{"a", "a/b", "a/b/d.txt"}},
		{"an excluded directory takes what it holds", Selection{Exclude: []string{"cache"}}, []string{"a", "a/b", "a/b/c.log", "a/b/d.txt", "a/cache", "a/cache/x", "app.log", "cache.txt"}},
		{"paths are literal", Selection{Paths: []string{"a/*"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := tc.sel.Compile()
			if err != nil {
				t.Fatal(err)
			}
			if got := walk(s, tree); !slices.Equal(got, tc.want) {
				t.Errorf("chose %q, want %q", got, tc.want)
			}
		})
	}
}

func TestUnmatchedNamesPathsThenGlobs(t *testing.T) {
	s, err := Selection{Paths: []string{"a", "nope"}, Include: []string{"**/*.xyz", "*.txt"}}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	walk(s, tree)
	if got, want := s.Unmatched(), []string{"nope", "**/*.xyz"}; !slices.Equal(got, want) {
		t.Errorf("Unmatched = %q, want %q", got, want)
	}
}

func TestCompileRefuses(t *testing.T) {
	for _, sel := range []Selection{
		{Include: []string{"a/[b"}}, {Exclude: []string{"{x"}}, {Paths: []string{"../x"}}, {Paths: []string{""}},
	} {
		if _, err := sel.Compile(); err == nil {
			t.Errorf("%+v compiled", sel)
		}
	}
	if err := Validate([]string{"ok/**", "a/[b"}); !errors.Is(err, ErrBadPattern) {
		t.Errorf("Validate: %v, want ErrBadPattern", err)
	}
}

func TestIgnoreFile(t *testing.T) {
	ig, err := ParseIgnore([]byte("# comment\n\n*.log\n/cache/\n!keep.log\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		isDir bool
		want  bool
	}{
		{"a/b/c.log", false, true}, {"keep.log", false, false}, {"cache", true, true},
		{"cache", false, false}, {"a/cache", true, false}, {"cache.txt", false, false},
	} {
		if got := ig.Match(tc.name, tc.isDir); got != tc.want {
			t.Errorf("Match(%q, dir=%v) = %v, want %v", tc.name, tc.isDir, got, tc.want)
		}
	}
	if ig, err := ParseIgnore([]byte("# only a comment\n")); ig != nil || err != nil {
		t.Errorf("an ignore file of comments: %v, %v", ig, err)
	}
	var none *Ignore
	if none.Match("x", false) {
		t.Error("a nil Ignore matched")
	}
}
