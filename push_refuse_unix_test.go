//go:build unix

package blobber_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// pushRefusedTree holds what pull would refuse: an absolute link, a link out
// of the tree, a FIFO; and what it takes: a file, a link inside the tree.
func pushRefusedTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	testtree.Write(t, dir, map[string]string{
		"ok.txt":      "ok\n",
		"sub/in.txt":  "in\n",
		"sub/inside":  "-> in.txt",
		"sub/up":      "-> ../../outside.txt",
		"sub/via":     "-> ../hop/../../outside.txt",
		"abs":         "-> /etc/hostname",
		"hop/":        "",
		"sub/deep/x":  "x",
		"sub/through": "-> deep/../../abs",
	})
	testtree.Must(t, syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644))
	return dir
}

// Push refuses, before it uploads anything, a tree that pull would
// refuse, naming every offender.
func TestPushRefusesWhatPullWouldRefuse(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	ref := proxy.Host() + "/refuse/tree:v1"
	_, err := newClient(t).Push(ctx, ref, os.DirFS(pushRefusedTree(t)))
	var refused *blobber.UnsupportedEntriesError
	if !errors.As(err, &refused) || !errors.Is(err, blobber.ErrUnsupportedEntry) {
		t.Fatalf("push: %v, want an UnsupportedEntriesError", err)
	}
	want := []string{
		"abs -> /etc/hostname (absolute link)",
		"pipe (FIFO)",
		"sub/through -> deep/../../abs (link out of the tree, through an absolute link)",
		"sub/up -> ../../outside.txt (link out of the tree)",
		"sub/via -> ../hop/../../outside.txt (link out of the tree)",
	}
	if got := strings.Join(refused.Entries, "\n"); got != strings.Join(want, "\n") || refused.Total != len(want) {
		t.Errorf("refused %d entries:\n%s\nwant:\n%s", refused.Total, got, strings.Join(want, "\n"))
	}
	if st := proxy.Stats(); st.UploadBytes != 0 || st.ManifestRequests != 0 {
		t.Errorf("%d bytes uploaded, %d manifest requests before the refusal", st.UploadBytes, st.ManifestRequests)
	}
	if _, err := newClient(t).Open(ctx, ref); !errors.Is(err, blobber.ErrNotFound) {
		t.Errorf("open after the refusal: %v, want ErrNotFound", err)
	}
}

// The error names the first 20 offenders and counts the others.
func TestPushRefusalListsTwentyAndCounts(t *testing.T) {
	dir := t.TempDir()
	for i := range 25 {
		testtree.Must(t, syscall.Mkfifo(filepath.Join(dir, fmt.Sprintf("p%02d", i)), 0o644))
	}
	_, err := newClient(t, blobber.WithOCILayout()).Push(context.Background(), filepath.Join(t.TempDir(), "layout")+":v1", os.DirFS(dir))
	var refused *blobber.UnsupportedEntriesError
	if !errors.As(err, &refused) {
		t.Fatalf("push: %v", err)
	}
	if len(refused.Entries) != 20 || refused.Total != 25 || refused.Entries[19] != "p19 (FIFO)" {
		t.Errorf("%d named of %d: %q", len(refused.Entries), refused.Total, refused.Entries)
	}
	if !strings.HasPrefix(err.Error(), "push to ") || !strings.Contains(err.Error(), "25 entries that pull would refuse: p00 (FIFO), ") ||
		!strings.HasSuffix(err.Error(), "p19 (FIFO), and 5 more: leave them out (WithExclude, or a .blobberignore file)") {
		t.Errorf("message: %v", err)
	}
}

// Excluded entries, by pattern or by the tree's .blobberignore, are left
// out: the push goes through and the pull gives the rest.
func TestPushExcludes(t *testing.T) {
	ctx := context.Background()
	layout := filepath.Join(t.TempDir(), "layout")
	c := newClient(t, blobber.WithOCILayout())
	pull := func(ref string) string {
		dst := filepath.Join(t.TempDir(), "out")
		_, err := c.Pull(ctx, ref, dst)
		testtree.Must(t, err)
		return dst
	}

	src := pushRefusedTree(t)
	_, err := c.Push(ctx, layout+":patterns", os.DirFS(src),
		blobber.WithExclude("pipe", "abs"), blobber.WithExclude("sub/{up,via,through}", "**/deep"))
	testtree.Must(t, err)
	want := t.TempDir()
	testtree.Write(t, want, map[string]string{"ok.txt": "ok\n", "sub/in.txt": "in\n", "sub/inside": "-> in.txt", "hop/": ""})
	testtree.Equal(t, want, pull(layout+":patterns"))

	// gitignore syntax; the ignore file itself is pushed, as it does not
	// list itself.
	ignore := "# what pull would refuse\n/pipe\nabs\nsub/up\nsub/via\r\nthrough\ndeep/\n!nothing\n"
	testtree.Write(t, src, map[string]string{".blobberignore": ignore})
	testtree.Write(t, want, map[string]string{".blobberignore": ignore})
	_, err = c.Push(ctx, layout+":ignorefile", os.DirFS(src))
	testtree.Must(t, err)
	testtree.Equal(t, want, pull(layout+":ignorefile"))
}

// WithDereference stores what links point to, as tar -h does.
func TestPushDereference(t *testing.T) {
	ctx := context.Background()
	outside := t.TempDir()
	testtree.Write(t, outside, map[string]string{"secretless.txt": "outside\n", "dir/f.txt": "f\n"})
	src := t.TempDir()
	testtree.Write(t, src, map[string]string{
		"a.txt":    "a\n",
		"abs":      "-> " + filepath.Join(outside, "secretless.txt"),
		"absdir":   "-> " + filepath.Join(outside, "dir"),
		"in":       "-> a.txt",
		"sub/up":   "-> ../a.txt",
		"sub/back": "-> ../sub2",
		"sub2/g":   "g\n",
	})
	layout := filepath.Join(t.TempDir(), "layout")
	c := newClient(t, blobber.WithOCILayout())
	_, err := c.Push(ctx, layout+":v1", os.DirFS(src), blobber.WithDereference())
	testtree.Must(t, err)
	dst := filepath.Join(t.TempDir(), "out")
	_, err = c.Pull(ctx, layout+":v1", dst)
	testtree.Must(t, err)
	want := t.TempDir()
	testtree.Write(t, want, map[string]string{
		"a.txt": "a\n", "abs": "outside\n", "absdir/f.txt": "f\n", "in": "a\n",
		"sub/up": "a\n", "sub/back/g": "g\n", "sub2/g": "g\n",
	})
	testtree.Equal(t, want, dst)

	for _, tc := range []struct{ name, link, target, want string }{
		{"dangling", "gone", "nothere", "gone -> nothere: unsupported file type: cannot dereference a dangling link"},
		{"loop of links", "loop", "loop", "loop -> loop: unsupported file type: cannot dereference a dangling link or a loop of links (too many levels of symbolic links)"},
		{"link to a directory that holds it", "sub/self", "..", "sub/self: unsupported file type: cannot dereference a link to ., which holds it (a loop)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := t.TempDir()
			testtree.Write(t, src, map[string]string{"a.txt": "a\n", "sub/b.txt": "b\n", tc.link: "-> " + tc.target})
			_, err := c.Push(ctx, layout+":bad", os.DirFS(src), blobber.WithDereference())
			if !errors.Is(err, blobber.ErrUnsupportedEntry) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("push: %v, want ErrUnsupportedEntry and %q", err, tc.want)
			}
		})
	}
}
