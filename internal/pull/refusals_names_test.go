package pull

import (
	"archive/tar"
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/blobber-dev/blobber/internal/compression"
	"github.com/blobber-dev/blobber/internal/testartifact"
	"github.com/blobber-dev/blobber/internal/toc"
	"github.com/blobber-dev/blobber/internal/treepath"
)

// indexOf builds an eStargz layer holding names (a trailing slash makes a
// directory, "name -> target" a symlink) and reads its TOC back.
func indexOf(t *testing.T, names ...string) *toc.Index {
	t.Helper()
	b := testartifact.NewBuilder()
	for _, n := range names {
		h := &tar.Header{Name: n, Typeflag: tar.TypeReg, Mode: 0o644}
		var content []byte
		switch {
		case strings.HasSuffix(n, "/"):
			h.Typeflag, h.Mode = tar.TypeDir, 0o755
		case strings.Contains(n, " -> "):
			h.Name, h.Linkname, _ = strings.Cut(n, " -> ")
			h.Typeflag = tar.TypeSymlink
		default:
			content = []byte("data of " + n)
			h.Size = int64(len(content))
		}
		if err := b.Add(h, content); err != nil {
			t.Fatal(err)
		}
	}
	blob, tocDigest, _, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	ix, err := toc.Read(context.Background(), bytes.NewReader(blob), int64(len(blob)), compression.Gzip, tocDigest, toc.Limits{MaxEntries: 100, MaxBytes: 1 << 20, MaxTOCBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return ix
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
