package pull

import (
	"strings"
	"testing"

	"github.com/blobber-dev/blobber/internal/toc"
	"github.com/blobber-dev/blobber/internal/treepath"
)

// indexOf builds an eStargz layer holding names (see layerOf) and reads
// its TOC back.
func indexOf(t *testing.T, names ...string) *toc.Index {
	t.Helper()
	return layerOf(t, names...).Index
}

// A pull judges names by the target's rules before anything is fetched:
// with Windows' rules and a case-insensitive file system forced, every
// offender is named; with POSIX rules the same artifact passes.
func TestRefuseNamesByTheTargetsRules(t *testing.T) {
	ix := indexOf(t, "a/", "a/x", "A -> /etc", "README", "readme", "aux.txt", "ok/", "ok/what?")
	r, err := Refuse(ix, Target{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Unholdable.Total != 0 || r.Colliding.Total != 0 {
		t.Errorf("POSIX rules refused %q and %q", &r.Unholdable, &r.Colliding)
	}
	r, err = Refuse(ix, Target{Rules: treepath.Rules{WindowsNames: true, FoldCase: true}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.Colliding.String(), "A and a, README and readme"; got != want {
		t.Errorf("collisions %q, want %q", got, want)
	}
	got := r.Unholdable.String()
	for _, want := range []string{"aux.txt (a name Windows reserves for a device)", `ok/what? (the character '?')`} {
		if !strings.Contains(got, want) {
			t.Errorf("unholdable names %q lack %q", got, want)
		}
	}
	if r.Unholdable.Total != 2 {
		t.Errorf("%d unholdable names (%s), want 2", r.Unholdable.Total, got)
	}
}

// The path length counts the target directory's.
func TestRefuseLongPaths(t *testing.T) {
	ix := indexOf(t, strings.Repeat("n", 50))
	for _, c := range []struct {
		pathLen int
		refused bool
	}{{208, false}, {209, true}} {
		r, err := Refuse(ix, Target{Rules: treepath.Rules{MaxPath: 259}, PathLen: c.pathLen})
		if err != nil {
			t.Fatal(err)
		}
		if (r.Unholdable.Total > 0) != c.refused {
			t.Errorf("target of %d: refused %v (%s), want %v", c.pathLen, r.Unholdable.Total > 0, &r.Unholdable, c.refused)
		}
	}
}
