package blobber_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"testing/fstest"

	"github.com/blobber-dev/blobber"
)

// site is the tree the examples push.
var site = fstest.MapFS{
	"index.html":      {Data: []byte("<h1>hi</h1>\n"), Mode: 0o644},
	"assets":          {Mode: fs.ModeDir | 0o755},
	"bin":             {Mode: fs.ModeDir | 0o755},
	"docs":            {Mode: fs.ModeDir | 0o755},
	"docs/hello.txt":  {Data: []byte("hello, world\n"), Mode: 0o644},
	"docs/guide.md":   {Data: []byte("# Guide\n"), Mode: 0o644},
	"bin/serve":       {Data: []byte("#!/bin/sh\n"), Mode: 0o755},
	"assets/logo.svg": {Data: []byte("<svg/>\n"), Mode: 0o644},
}

// Push a tree, then read one file back without downloading the rest. The
// examples use an OCI image layout in a temporary directory so they run
// anywhere; against a registry, drop WithOCILayout and use a reference such
// as "ghcr.io/acme/site:v1".
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "blobber-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ref := filepath.Join(dir, "layout") + ":v1"

	c, err := blobber.NewClient(blobber.WithOCILayout())
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Push(ctx, ref, site); err != nil {
		log.Fatal(err)
	}
	img, err := c.Open(ctx, ref)
	if err != nil {
		log.Fatal(err)
	}
	defer img.Close()
	data, err := fs.ReadFile(img, "docs/hello.txt")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(data))
	// Output: hello, world
}

// An Image is an fs.FS: walk it like a directory. Only the table of
// contents is read.
func ExampleImage() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "blobber-example")
	defer os.RemoveAll(dir)
	ref := filepath.Join(dir, "layout") + ":v1"
	c, _ := blobber.NewClient(blobber.WithOCILayout())
	if _, err := c.Push(ctx, ref, site); err != nil {
		log.Fatal(err)
	}

	img, err := c.Open(ctx, ref)
	if err != nil {
		log.Fatal(err)
	}
	defer img.Close()
	fs.WalkDir(img, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, _ := d.Info()
		fmt.Println(info.Mode(), name)
		return nil
	})
	// Output:
	// drwxr-xr-x .
	// drwxr-xr-x assets
	// -rw-r--r-- assets/logo.svg
	// drwxr-xr-x bin
	// -rwxr-xr-x bin/serve
	// drwxr-xr-x docs
	// -rw-r--r-- docs/guide.md
	// -rw-r--r-- docs/hello.txt
	// -rw-r--r-- index.html
}

// Pull extracts a whole artifact into a directory.
func ExampleClient_Pull() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "blobber-example")
	defer os.RemoveAll(dir)
	ref := filepath.Join(dir, "layout") + ":v1"
	c, _ := blobber.NewClient(blobber.WithOCILayout())
	if _, err := c.Push(ctx, ref, site); err != nil {
		log.Fatal(err)
	}

	out := filepath.Join(dir, "out")
	if _, err := c.Pull(ctx, ref, out); err != nil {
		log.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(out, "index.html"))
	fmt.Print(string(data))

	// Pulling again refuses to overwrite, unless WithOverwrite is given.
	_, err := c.Pull(ctx, ref, out)
	fmt.Println(errors.Is(err, blobber.ErrExists))
	// Output:
	// <h1>hi</h1>
	// true
}

// Errors match the package's sentinels; a missing artifact is also
// fs.ErrNotExist.
func ExampleErrNotFound() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "blobber-example")
	defer os.RemoveAll(dir)
	c, _ := blobber.NewClient(blobber.WithOCILayout())
	if _, err := c.Push(ctx, filepath.Join(dir, "layout")+":v1", site); err != nil {
		log.Fatal(err)
	}

	_, err := c.Open(ctx, filepath.Join(dir, "layout")+":v2")
	fmt.Println(errors.Is(err, blobber.ErrNotFound), errors.Is(err, fs.ErrNotExist))
	// Output: true true
}

// Tags lists a repository's tags, sorted.
func ExampleClient_Tags() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "blobber-example")
	defer os.RemoveAll(dir)
	layout := filepath.Join(dir, "layout")
	c, _ := blobber.NewClient(blobber.WithOCILayout())
	for _, tag := range []string{"v2", "v1", "latest"} {
		if _, err := c.Push(ctx, layout+":"+tag, site); err != nil {
			log.Fatal(err)
		}
	}
	tags, err := c.Tags(ctx, layout)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tags)
	// Output: [latest v1 v2]
}
