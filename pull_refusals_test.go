package blobber_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	ta "github.com/blobber-dev/blobber/internal/testartifact"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// A pull of an artifact holding several entries it would refuse names
// every one of them (the first 20, then a count), before it fetches any of
// the layer's data and before it creates the target.
func TestPullNamesEveryRefusedEntry(t *testing.T) {
	t.Parallel()
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	entries := []ta.Entry{ta.File("big", incompressible(1<<20), 0o644), ta.Dir("d")}
	for i := range 23 {
		entries = append(entries, ta.Symlink(fmt.Sprintf("d/up%02d", i), "../../outside"))
	}
	entries = append(entries,
		ta.Symlink("abs", "/etc/passwd"),
		// Inside through the artifact's own link, then out: the kernel
		// would follow "in" first, and so does the check.
		ta.Symlink("in", "d"), ta.Symlink("via", "in/../.."),
		// Inside: not an offender.
		ta.Symlink("ok", "d/../big"),
		ta.Fifo("pipe"), ta.CharDev("null"))
	a := hostileEStargz(t, entries...)
	repo, ref := hostileRepo(t, reg.Host(), "refusals")
	_, err := a.Push(ctx, repo, "v1")
	testtree.Must(t, err)
	ref = strings.Replace(ref, reg.Host(), proxy.Host(), 1) + ":v1"

	c, err := blobber.NewClient()
	testtree.Must(t, err)
	dir := t.TempDir() + "/out"
	proxy.Reset()
	_, err = c.Pull(ctx, ref, dir)
	if !errors.Is(err, blobber.ErrPathTraversal) || !errors.Is(err, blobber.ErrUnsupportedEntry) {
		t.Fatalf("Pull: %v, want both ErrPathTraversal and ErrUnsupportedEntry", err)
	}
	msg := err.Error()
	for _, want := range []string{"25 symlinks", "abs -> /etc/passwd", "d/up00 -> ../../outside", "and 5 more",
		"2 entries", "pipe (a FIFO)", "null (a character device)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not say %q: %s", want, msg)
		}
	}
	for _, wrong := range []string{"ok ->", "d/up22", "in -> d"} {
		if strings.Contains(msg, wrong) {
			t.Errorf("error says %q: %s", wrong, msg)
		}
	}
	if _, err := os.Lstat(dir); err == nil {
		t.Errorf("the refused pull created %s", dir)
	}
	if st := proxy.Stats(); st.BlobBytes >= a.Layer.Size/2 {
		t.Errorf("the refused pull fetched %d bytes of a %d-byte layer; the TOC alone should have stopped it", st.BlobBytes, a.Layer.Size)
	}
}

// incompressible is n bytes that gzip cannot shrink.
func incompressible(n int) string {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return string(b)
}
