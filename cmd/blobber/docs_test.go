package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// writeDocs is set by `go run ./internal/cmd/gendocs` (make docs), which
// runs TestCLIReference to write the reference instead of checking it: the
// command tree lives in this main package, which nothing can import.
var writeDocs = flag.String("write-docs", "", "write the CLI reference into this directory's cli/ and man/ instead of checking ../../docs")

// TestCLIReference: docs/cli (markdown) and docs/man (man pages) are what
// the command tree generates now; a flag or command changed without `make
// docs` fails here.
func TestCLIReference(t *testing.T) {
	if *writeDocs != "" {
		if err := generateReference(*writeDocs); err != nil {
			t.Fatal(err)
		}
		return
	}
	fresh := t.TempDir()
	if err := generateReference(fresh); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"cli", "man"} {
		want := readTree(t, filepath.Join(fresh, sub))
		got := readTree(t, filepath.Join("..", "..", "docs", sub))
		for name, body := range want {
			old, ok := got[name]
			switch {
			case !ok:
				t.Errorf("docs/%s/%s is missing: run `make docs`", sub, name)
			case !bytes.Equal(old, body):
				t.Errorf("docs/%s/%s is stale: run `make docs`", sub, name)
			}
		}
		for name := range got {
			if _, ok := want[name]; !ok {
				t.Errorf("docs/%s/%s documents no command: run `make docs`", sub, name)
			}
		}
	}
}

// generateReference writes the markdown reference into dir/cli and the
// man pages into dir/man, the same bytes on every machine and every day.
func generateReference(dir string) error {
	root := newRootCmd()
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, c := range allCommands(root) {
		c.DisableAutoGenTag = true // no dates
	}
	cli, man := filepath.Join(dir, "cli"), filepath.Join(dir, "man")
	for _, d := range []string{cli, man} {
		if err := os.RemoveAll(d); err != nil {
			return err
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := doc.GenMarkdownTree(root, cli); err != nil {
		return err
	}
	var epoch = epochDate
	header := &doc.GenManHeader{Title: "BLOBBER", Section: "1", Source: "Blobber", Manual: "Blobber Manual", Date: &epoch}
	if err := doc.GenManTree(root, header, man); err != nil {
		return err
	}
	// A man page's date would change with every regeneration; leave it out.
	pages, err := os.ReadDir(man)
	if err != nil {
		return err
	}
	for _, p := range pages {
		path := filepath.Join(man, p.Name())
		body, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		body = bytes.Replace(body, []byte(` "`+epochDate.Format("Jan 2006")+`" `), []byte(` "" `), 1)
		if err := os.WriteFile(path, body, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func allCommands(c *cobra.Command) []*cobra.Command {
	all := []*cobra.Command{c}
	for _, sub := range c.Commands() {
		all = append(all, allCommands(sub)...)
	}
	return all
}

// readTree is the files of dir by name (none if dir does not exist).
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		body, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = body
	}
	return files
}

// epochDate stands in for the man pages' date, which generateReference
// then removes.
var epochDate = time.Unix(0, 0).UTC()
