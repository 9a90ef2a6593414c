package layer

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/blobber-dev/blobber/internal/testtree"
)

func link(target string) *fstest.MapFile {
	return &fstest.MapFile{Data: []byte(target), Mode: fs.ModeSymlink | 0o777}
}

// Links are resolved as pull resolves them once extracted: through the
// links of the tree, lexically where there is none.
func TestCheckResolvesLinksAsPullDoes(t *testing.T) {
	tree := fstest.MapFS{
		"a.txt":           {Data: []byte("a")},
		"d/e/f.txt":       {Data: []byte("f")},
		"d/up":            link(".."),
		"d/e/top":         link("../../a.txt"),
		"d/e/missing":     link("../nothing/../../a.txt"),
		"d/e/escape":      link("../../../x"),
		"d/e/viaup":       link("../up/../x"),
		"d/e/abs":         link("/etc/passwd"),
		"d/e/throughabs":  link("abs/x"),
		"d/e/dotdotfirst": link("./../../../a.txt"),
		"loop1":           link("loop2/x"),
		"loop2":           link("loop1/x"),
		"pipe":            {Mode: fs.ModeNamedPipe},
		"dev":             {Mode: fs.ModeDevice | fs.ModeCharDevice},
		"sock":            {Mode: fs.ModeSocket},
	}
	err := Check(context.Background(), tree)
	var refused *UnsupportedError
	if !errors.As(err, &refused) || !errors.Is(err, ErrUnsupported) {
		t.Fatalf("Check: %v", err)
	}
	want := []string{
		"d/e/abs -> /etc/passwd (absolute link)",
		"d/e/dotdotfirst -> ./../../../a.txt (link out of the tree)",
		"d/e/escape -> ../../../x (link out of the tree)",
		"d/e/throughabs -> abs/x (link out of the tree, through an absolute link)",
		"d/e/viaup -> ../up/../x (link out of the tree)",
		"dev (character device)",
		"loop1 -> loop2/x (too many levels of links)",
		"loop2 -> loop1/x (too many levels of links)",
		"pipe (FIFO)",
		"sock (socket)",
	}
	if got := strings.Join(refused.Names, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("refused:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

// A link that resolves through a link left out resolves as it will once
// extracted, where that link is not: lexically.
func TestCheckResolvesAroundExcludedLinks(t *testing.T) {
	tree := fstest.MapFS{
		"d/e/f.txt": {Data: []byte("f")},
		"x":         link("d/e"),
		"l":         link("x/../../y"),
	}
	if err := Check(context.Background(), tree); err != nil {
		t.Fatalf("through x, l stays in the tree: %v", err)
	}
	view, err := Select(tree, Selection{Exclude: []string{"x"}})
	if err != nil {
		t.Fatal(err)
	}
	var refused *UnsupportedError
	if err := Check(context.Background(), view); !errors.As(err, &refused) || refused.Names[0] != "l -> x/../../y (link out of the tree)" {
		t.Errorf("without x, l leads out of the tree: %v", err)
	}
}

// Exclude patterns and the ignore file hide entries from the walk.
func TestSelectExcludes(t *testing.T) {
	tree := fstest.MapFS{
		IgnoreFile:         {Data: []byte("*.tmp\n/build/\n!keep.tmp\n")},
		"a.txt":            {Data: []byte("a")},
		"x.tmp":            {Data: []byte("x")},
		"keep.tmp":         {Data: []byte("k")},
		"build/out":        {Data: []byte("o")},
		"src/build/inner":  {Data: []byte("i")},
		"src/y.tmp":        {Data: []byte("y")},
		"logs/1.log":       {Data: []byte("1")},
		"deep/er/2.log":    {Data: []byte("2")},
		"deep/er/keep.txt": {Data: []byte("k")},
	}
	view, err := Select(tree, Selection{Exclude: []string{"**/*.log"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	testtree.Must(t, fs.WalkDir(view, ".", func(name string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			got = append(got, name)
		}
		return err
	}))
	want := ".blobberignore a.txt deep/er/keep.txt keep.tmp src/build/inner"
	if strings.Join(got, " ") != want {
		t.Errorf("walk: %s\nwant: %s", strings.Join(got, " "), want)
	}
	if _, err := Select(tree, Selection{Exclude: []string{"a/[b"}}); err == nil {
		t.Error("a malformed pattern was accepted")
	}
}
