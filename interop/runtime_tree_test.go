package interop

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// runtimeTree writes the tree the runtime tests push: files of several
// modes, one of several eStargz chunks, an empty file, nested and empty
// directories, a symlink.
func runtimeTree(t *testing.T) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "site")
	testtree.WriteEntries(t, src, map[string]testtree.Entry{
		"index.html":          {Content: "<h1>hi</h1>\n"},
		"empty":               {},
		"bin/run.sh":          {Content: "#!/bin/sh\necho run\n", Mode: 0o755},
		"private/key.txt":     {Content: "not for everyone\n", Mode: 0o600},
		"private":             {Mode: fs.ModeDir | 0o700},
		"assets/css/site.css": {Content: strings.Repeat("chunked across several eStargz chunks\n", 2000)},
		"assets/empty-dir":    {Mode: fs.ModeDir | 0o755},
		"latest.css":          {Mode: fs.ModeSymlink, Content: "assets/css/site.css"},
	})
	return src
}

// pushTree pushes the directory src to ref with opts, as the CLI does.
func pushTree(t *testing.T, src, ref string, opts ...blobber.PushOption) {
	t.Helper()
	c, err := blobber.NewClient()
	testtree.Must(t, err)
	tree, err := blobber.OpenTree(src)
	testtree.Must(t, err)
	defer tree.Close()
	opts = append([]blobber.PushOption{blobber.WithChunkSize(4096)}, opts...)
	if _, err := c.Push(context.Background(), ref, tree, opts...); err != nil {
		t.Fatal(err)
	}
}
