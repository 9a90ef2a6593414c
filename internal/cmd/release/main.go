// Command release builds blobber for every platform it ships for and
// packs each build into an archive in dist/: tar.gz for Unix, zip for
// Windows, with a SHA256SUMS file. `make release` runs it.
//
// The archives are reproducible: the same commit gives the same bytes on any
// machine with the same Go release. Builds use -trimpath and an empty build
// ID; archive entries carry the commit's time, fixed owners and modes, and
// gzip records no name or time.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// platforms are those the README's platform table lists.
var platforms = []string{
	"linux/amd64", "linux/arm64",
	"darwin/amd64", "darwin/arm64",
	"windows/amd64", "windows/arm64",
	"freebsd/amd64",
}

func main() {
	out := flag.String("out", "dist", "directory for the archives and SHA256SUMS")
	ver := flag.String("version", "", "version to stamp (default: git describe --tags --always --dirty)")
	flag.Parse()
	if err := run(*out, *ver); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func run(out, ver string) error {
	if ver == "" {
		v, err := git("describe", "--tags", "--always", "--dirty")
		if err != nil {
			return err
		}
		ver = v
	}
	epoch, err := git("log", "-1", "--format=%ct")
	if err != nil {
		return err
	}
	var secs int64
	if _, err := fmt.Sscan(epoch, &secs); err != nil {
		return fmt.Errorf("commit time %q: %w", epoch, err)
	}
	mtime := time.Unix(secs, 0).UTC()
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	build, err := os.MkdirTemp("", "blobber-release-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(build)

	readme, err := os.ReadFile("README.md")
	if err != nil {
		return err
	}
	var sums []checksum
	for _, p := range platforms {
		goos, goarch, _ := strings.Cut(p, "/")
		exe := "blobber"
		if goos == "windows" {
			exe += ".exe"
		}
		bin := filepath.Join(build, goos+"-"+goarch, exe)
		fmt.Fprintf(os.Stderr, "building %s\n", p)
		cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=true",
			"-ldflags", "-s -w -buildid= -X main.buildVersion="+ver,
			"-o", bin, "./cmd/blobber")
		cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0", "GOFLAGS=")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("build %s: %w", p, err)
		}
		data, err := os.ReadFile(bin)
		if err != nil {
			return err
		}
		files := []archiveFile{
			{name: exe, mode: 0o755, data: data},
			{name: "README.md", mode: 0o644, data: readme},
		}
		name := fmt.Sprintf("blobber_%s_%s_%s", strings.TrimPrefix(ver, "v"), goos, goarch)
		var sum checksum
		if goos == "windows" {
			sum, err = writeArchive(filepath.Join(out, name+".zip"), files, mtime, writeZip)
		} else {
			sum, err = writeArchive(filepath.Join(out, name+".tar.gz"), files, mtime, writeTarGz)
		}
		if err != nil {
			return err
		}
		sums = append(sums, sum)
	}
	return writeSums(filepath.Join(out, "SHA256SUMS"), sums)
}

func git(args ...string) (string, error) {
	b, err := exec.Command("git", args...).Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(b)), nil
}
