package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// jobDiff compares two versions of the dataset's artifact: the one the
// push job made and one with a file changed (same size) and a file added.
// Only blobber can: the peers have no table of contents to compare.
const jobDiff = "diff of two versions (1 file changed, 1 added)"

// diffJobs are the diff rows of a dataset: on small and mixed.
func diffJobs(ds *dataset) []string {
	if ds.name == "small" || ds.name == "mixed" {
		return []string{jobDiff}
	}
	return nil
}

const diffAddedName = "blobber-bench-added.txt"

// diffRuns pushes the second version (untimed), then times
// `blobber diff REF V2REF` from a cold cache, checking its lines.
func (b *bench) diffRuns(ds *dataset, t *tool, ref string) *result {
	v2Ref := b.ref(ds, t.name, "diff-v2", 0)
	changed, err := b.pushSecondVersion(ds, t, v2Ref)
	if err != nil {
		return &result{job: jobDiff, tool: t.name, err: fmt.Errorf("pushing the second version: %w", err)}
	}
	// In the order ls lists paths: by name at the root.
	want := "A\t" + diffAddedName + "\nM\t" + changed + "\n"
	if top, _, _ := strings.Cut(changed, "/"); top < diffAddedName {
		want = "M\t" + changed + "\nA\t" + diffAddedName + "\n"
	}
	return b.repeat(ds, jobDiff, t.name, 0, func(int) (sample, error) {
		p := b.command(t, nil, "diff", ref, v2Ref)
		var out, errOut bytes.Buffer
		p.cmd.Stdout, p.cmd.Stderr = &out, &errOut
		s, err := b.measure(func() (usage, error) {
			err := p.cmd.Run()
			u := p.usage()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				return u, fmt.Errorf("%s: want exit status 1 (different), got %v\n%s", p, err, strings.TrimSpace(errOut.String()))
			}
			return u, nil
		})
		if err == nil && out.String() != want {
			err = fmt.Errorf("diff printed %q, want %q", out.String(), want)
		}
		return s, err
	})
}

// pushSecondVersion pushes ds with its first file (in path order) changed,
// at the same size, and a file added, from a tree of hard links to ds (or
// copies, across file systems). It returns the changed file's path.
func (b *bench) pushSecondVersion(ds *dataset, t *tool, ref string) (string, error) {
	dir := filepath.Join(b.work, "diff-v2-"+ds.name)
	defer os.RemoveAll(dir)
	names := slices.Sorted(maps.Keys(ds.files))
	if len(names) == 0 {
		return "", errors.New("the dataset has no file")
	}
	changed := names[0]
	err := filepath.WalkDir(ds.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(ds.dir, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(dst, 0o755)
		case filepath.ToSlash(rel) == changed:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			data[0] ^= 0xff // the same size: only the digest tells
			return os.WriteFile(dst, data, 0o644)
		case d.Type().IsRegular():
			if os.Link(p, dst) == nil {
				return nil
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(dst, data, 0o644)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, diffAddedName), []byte("added\n"), 0o644); err != nil {
		return "", err
	}
	if _, err := runCmd(b.command(t, nil, "push", dir, ref)); err != nil {
		return "", err
	}
	return changed, nil
}
