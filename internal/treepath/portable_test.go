package treepath

import (
	"strings"
	"testing"
)

func TestWindowsNameProblem(t *testing.T) {
	refused := []string{
		"CON", "con", "Con.txt", "nul.tar.gz", "COM1", "lpt9.log", "COM¹", "AUX .txt", "CONIN$",
		"a<b", "a>b", `a:b`, `a"b`, "a|b", "a?b", "a*b", `a\b`, "tab\there", "bell\x07", "del\x7f",
		"trailing.", "trailing ", "..."}
	for _, name := range refused {
		if WindowsNameProblem(name) == "" {
			t.Errorf("%q: accepted, want refused", name)
		}
	}
	accepted := []string{"CONSOLE", "COM10", "COM0", "LPT", "xnul", "con_", ".hidden", "a.b", "naïve", "日本語", "a b"}
	for _, name := range accepted {
		if why := WindowsNameProblem(name); why != "" {
			t.Errorf("%q: refused (%s), want accepted", name, why)
		}
	}
}

func TestNameProblemChecksEveryComponent(t *testing.T) {
	r := Rules{WindowsNames: true}
	if why := r.NameProblem("docs/aux/readme.md", 10); why == "" {
		t.Error("a reserved directory name was accepted")
	}
	if why := r.NameProblem("docs/readme.md", 10); why != "" {
		t.Errorf("an ordinary name was refused: %s", why)
	}
	if why := (Rules{}).NameProblem("aux/a:b", 10); why != "" {
		t.Errorf("POSIX rules refused %q: %s", "aux/a:b", why)
	}
}

func TestNameProblemMaxPath(t *testing.T) {
	r := Rules{MaxPath: 259}
	// 200 + 1 + 58 = 259: fits; one more does not.
	if why := r.NameProblem(strings.Repeat("a", 58), 200); why != "" {
		t.Errorf("a path of exactly MaxPath refused: %s", why)
	}
	if why := r.NameProblem(strings.Repeat("a", 59), 200); !strings.Contains(why, "260") {
		t.Errorf("a path one longer than MaxPath: %q", why)
	}
	// Counted in UTF-16 units, as Windows counts: "𝄞" is two.
	if why := r.NameProblem(strings.Repeat("𝄞", 29)+"a", 200); why == "" {
		t.Error("a name of 60 UTF-16 units fitted in 58")
	}
}

func TestCollisions(t *testing.T) {
	nfc, nfd := "caf\u00e9", "cafe\u0301"
	cases := []struct {
		rules Rules
		names []string
		want  string
	}{
		{Rules{}, []string{"a", "A", nfc, nfd}, ""},
		{Rules{FoldCase: true}, []string{"a", "b", "A"}, "a and A"},
		// The classic escape: a directory a, a symlink A beside it.
		{Rules{FoldCase: true}, []string{"a", "a/x", "A"}, "a and A"},
		{Rules{FoldCase: true}, []string{"dir/Readme", "dir/README", "dir/readme"}, "dir/Readme and dir/README, dir/Readme and dir/readme"},
		{Rules{FoldCase: true}, []string{"STRASSE", "straße"}, "STRASSE and straße"},
		{Rules{FoldCase: true}, []string{nfc, nfd}, ""},
		{Rules{FoldNormalization: true}, []string{nfc, nfd}, nfc + " and " + nfd},
		{Rules{FoldNormalization: true}, []string{"a", "A"}, ""},
		{Rules{FoldCase: true, FoldNormalization: true}, []string{"CAF\u00c9", nfd}, "CAF\u00c9 and " + nfd},
	}
	for _, c := range cases {
		col := NewCollisions(c.rules)
		for _, n := range c.names {
			col.Add(n)
		}
		if got := col.Found.String(); got != c.want {
			t.Errorf("%+v %q: collisions %q, want %q", c.rules, c.names, got, c.want)
		}
	}
}
