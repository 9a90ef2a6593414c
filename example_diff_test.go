package blobber_test

import (
	"context"
	"fmt"
	"io/fs"
	"log"
	"maps"
	"os"
	"path/filepath"
	"testing/fstest"

	"github.com/blobber-dev/blobber"
)

// Compare two versions of a tree from their tables of contents: no file
// content is downloaded.
func ExampleClient_Diff() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "blobber-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	layout := filepath.Join(dir, "layout")

	c, err := blobber.NewClient(blobber.WithOCILayout())
	if err != nil {
		log.Fatal(err)
	}
	v2 := fstest.MapFS(maps.Clone(site))
	v2["docs/hello.txt"] = &fstest.MapFile{Data: []byte("hello, diff\n"), Mode: 0o644}
	v2["bin/serve"] = &fstest.MapFile{Data: []byte("#!/bin/sh\n"), Mode: 0o700}
	delete(v2, "docs/guide.md")
	v2["CHANGELOG"] = &fstest.MapFile{Data: []byte("v2\n"), Mode: fs.FileMode(0o644)}
	for tag, tree := range map[string]fstest.MapFS{"v1": site, "v2": v2} {
		if _, err := c.Push(ctx, layout+":"+tag, tree); err != nil {
			log.Fatal(err)
		}
	}

	d, err := c.Diff(ctx, layout+":v1", layout+":v2")
	if err != nil {
		log.Fatal(err)
	}
	for _, ch := range d.Changes {
		fmt.Println(ch.Kind, ch.Path, ch.ContentChanged, ch.ModeChanged)
	}
	fmt.Printf("%d added, %d deleted, %d modified\n", d.Totals.Added, d.Totals.Deleted, d.Totals.Modified)
	// Output:
	// A CHANGELOG false false
	// M bin/serve false true
	// D docs/guide.md false false
	// M docs/hello.txt true false
	// 1 added, 1 deleted, 2 modified
}
