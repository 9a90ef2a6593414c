// Command gendocs writes Blobber's CLI reference: markdown into docs/cli
// and man pages into docs/man, from the cobra command tree (make docs).
//
// The tree is built in cmd/blobber's main package, which no other package
// can import, so gendocs runs that package's TestCLIReference with
// -write-docs; without the flag the same test checks that the committed
// reference is current.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

func main() {
	out := flag.String("out", "docs", "directory that receives cli/ and man/")
	flag.Parse()
	dir, err := filepath.Abs(*out)
	if err != nil {
		fail(err)
	}
	goCmd := os.Getenv("GO")
	if goCmd == "" {
		goCmd = "go"
	}
	cmd := exec.Command(goCmd, "test", "-count=1", "-run", "^TestCLIReference$", "./cmd/blobber", "-args", "-write-docs", dir)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fail(fmt.Errorf("%s test ./cmd/blobber: %w", goCmd, err))
	}
	fmt.Printf("wrote %s and %s\n", filepath.Join(*out, "cli"), filepath.Join(*out, "man"))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gendocs:", err)
	os.Exit(1)
}
