package blobber_test

import (
	"context"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"testing/fstest"

	"github.com/blobber-dev/blobber"
)

// Leave entries out of an artifact: by doublestar patterns, and by the
// gitignore patterns of a .blobberignore file at the tree's root (which
// is pushed itself, unless it lists itself).
func ExampleWithExclude() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "blobber-example")
	defer os.RemoveAll(dir)
	ref := filepath.Join(dir, "layout") + ":v1"
	c, _ := blobber.NewClient(blobber.WithOCILayout())

	tree := fstest.MapFS{
		"index.html":            {Data: []byte("<h1>hi</h1>\n")},
		"logs/today.log":        {Data: []byte("...\n")},
		"docs/draft.md":         {Data: []byte("wip\n")},
		"docs/guide.md":         {Data: []byte("# Guide\n")},
		"docs/old/notes.log":    {Data: []byte("...\n")},
		blobber.IgnoreFile:      {Data: []byte("draft.md\n")},
		"node_modules/x/pkg.js": {Data: []byte("\n")},
	}
	_, err := c.Push(ctx, ref, tree, blobber.WithExclude("**/*.log", "node_modules"))
	if err != nil {
		log.Fatal(err)
	}
	img, err := c.Open(ctx, ref)
	if err != nil {
		log.Fatal(err)
	}
	defer img.Close()
	fs.WalkDir(img, ".", func(name string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			fmt.Println(name)
		}
		return err
	})
	// Output:
	// .blobberignore
	// docs/guide.md
	// index.html
}
