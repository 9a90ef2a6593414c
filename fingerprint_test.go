package blobber_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// An unchanged tree pushed again is not rebuilt: its earlier manifest is
// tagged again, and no layer byte is uploaded. Any change is seen.
func TestUnchangedTreeIsNotRebuilt(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	var logs bytes.Buffer
	c := newClient(t, blobber.WithCache(t.TempDir()), blobber.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	src := newTree(t)
	ref := proxy.Host() + "/reuse/tree:v1"
	first, err := c.Push(ctx, ref, os.DirFS(src))
	testtree.Must(t, err)

	proxy.Reset()
	logs.Reset()
	again, err := c.Push(ctx, proxy.Host()+"/reuse/tree:v2", os.DirFS(src))
	testtree.Must(t, err)
	if again.Digest != first.Digest || !strings.Contains(logs.String(), "reused its layer") {
		t.Fatalf("unchanged tree was rebuilt (%s vs %s): %s", again.Digest, first.Digest, logs.String())
	}
	if s := proxy.Stats(); s.UploadBytes != 0 {
		t.Fatalf("re-push uploaded %d bytes", s.UploadBytes)
	}

	// Same size, same modification time, new content: still seen.
	p := filepath.Join(src, "data/nested/b.txt")
	info, err := os.Stat(p)
	testtree.Must(t, err)
	testtree.Must(t, os.WriteFile(p, []byte("BBB"), 0o644))
	testtree.Must(t, os.Chtimes(p, info.ModTime(), info.ModTime()))
	logs.Reset()
	changed, err := c.Push(ctx, proxy.Host()+"/reuse/tree:v3", os.DirFS(src))
	testtree.Must(t, err)
	if changed.Digest == first.Digest || strings.Contains(logs.String(), "reused its layer") {
		t.Fatal("a changed tree reused the old layer")
	}
	img, err := c.Open(ctx, proxy.Host()+"/reuse/tree:v3")
	testtree.Must(t, err)
	defer img.Close()
	if data, _ := img.ReadFile("data/nested/b.txt"); string(data) != "BBB" {
		t.Fatalf("b.txt = %q", data)
	}
}
