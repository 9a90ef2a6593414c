package main

import (
	"fmt"
	"path/filepath"
	"strings"
)

// jobPullDir pulls one directory of the artifact (pull REF DIR PATH): only
// its files' chunks are fetched. The peers can only pull everything.
const jobPullDir = "pull of one directory"

// pulledDir is the directory jobPullDir pulls: on mixed one of its 20
// groups (about 25 files, a third of them in a nested directory), on small
// one of its 100 directories (100 files); "" where there is no such job.
func pulledDir(ds *dataset) string {
	switch ds.name {
	case "mixed":
		return "group-00"
	case "small":
		return "dir-000"
	}
	return ""
}

// dirFiles is the regular files of ds under dir and their bytes.
func dirFiles(ds *dataset, dir string) (map[string]int64, int64) {
	files := map[string]int64{}
	var total int64
	for name, size := range ds.files {
		if strings.HasPrefix(name, dir+"/") {
			files[name] = size
			total += size
		}
	}
	return files, total
}

// pullDirResult times jobPullDir for t on ref.
func (b *bench) pullDirResult(ds *dataset, t *tool, ref string) *result {
	dir := pulledDir(ds)
	want, size := dirFiles(ds, dir)
	return b.repeat(ds, jobPullDir, t.name, size, func(run int) (sample, error) {
		out := filepath.Join(b.work, fmt.Sprintf("pull-dir-%s-%d", ds.name, run))
		defer b.discard(ds, out)
		s, err := b.measure(func() (usage, error) { return runCmd(b.command(t, nil, "pull", ref, out, dir)) })
		if err != nil {
			return s, err
		}
		got, _, err := scanTree(out)
		if err != nil {
			return s, fmt.Errorf("verify: %w", err)
		}
		if len(got) != len(want) {
			return s, fmt.Errorf("verify: pulled %d files, want the %d under %s", len(got), len(want), dir)
		}
		for name, n := range want {
			if got[name] != n {
				return s, fmt.Errorf("verify: %s is %d bytes, want %d", name, got[name], n)
			}
			if sum, ok := ds.sums[name]; ok {
				if have, err := fileSHA256(filepath.Join(out, filepath.FromSlash(name))); err != nil || have != sum {
					return s, fmt.Errorf("verify: %s differs (%v)", name, err)
				}
			}
		}
		return s, nil
	})
}
