package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// The rows of the split into layers (issue 23, docs/layers.md): a first
// push split, to set against the single layer's, and a push after one
// file changed, split and not, whose uploaded bytes are the point.
const (
	jobPushLayersAuto  = "push, --layers auto"
	jobPullLayersAuto  = "pull of the --layers auto push"
	jobRepushChanged   = "re-push after one change, --layers auto"
	jobRepushChanged1  = "re-push after one change, --layers 1"
	changedCopyPattern = "changed-%s-%s-%d"
)

// layersJobs are the split's rows for ds (none at scale, where the
// memory bound is the question).
func layersJobs(ds *dataset) []string {
	if ds.scale {
		return nil
	}
	return []string{jobPushLayersAuto, jobPullLayersAuto, jobRepushChanged, jobRepushChanged1}
}

func isLayersJob(job string) bool {
	switch job {
	case jobPushLayersAuto, jobPullLayersAuto, jobRepushChanged, jobRepushChanged1:
		return true
	}
	return false
}

// runLayersJob runs one of the split's rows for blobber.
func (b *bench) runLayersJob(ds *dataset, t *tool, job string) *result {
	return b.repeat(ds, job, t.name, ds.bytes, func(run int) (sample, error) {
		ref := b.ref(ds, t.name, "push-layers-auto", run)
		if job == jobPullLayersAuto {
			// Run run of the push row made ref.
			return b.pull(ds, t, ref, run)
		}
		if job == jobPushLayersAuto {
			return b.firstPush(ds, t.name+"-layers-auto", ref, func() (sample, error) {
				return b.measure(func() (usage, error) {
					return runCmd(b.command(t, nil, "push", "--layers", "auto", ds.dir, ref))
				})
			})
		}
		mode := "auto"
		if job == jobRepushChanged1 {
			mode = "1"
		}
		return b.repushChanged(ds, t, mode, run)
	})
}

// repushChanged pushes a copy of ds (untimed), changes one file of it
// (the biggest for large, the one nearest 4 KiB otherwise), and times the
// push of the changed copy to a new tag of the same repository, with the
// cache of the first push, as a user who edits and pushes again has: the
// registry has every layer but those the change touched, and the cache
// remembers what the unchanged groups built.
func (b *bench) repushChanged(ds *dataset, t *tool, mode string, run int) (sample, error) {
	dir := filepath.Join(b.work, fmt.Sprintf(changedCopyPattern, ds.name, mode, run))
	defer os.RemoveAll(dir)
	if err := linkTree(ds.dir, dir); err != nil {
		return sample{}, err
	}
	ref := b.ref(ds, t.name, "changed-"+mode, run)
	name := ds.catSmall
	if ds.catBig != "" {
		name = ds.catBig
	}
	if name == "" {
		return sample{}, fmt.Errorf("%s has no file to change", ds.name)
	}
	return b.warm(run, []string{"push", "--layers", mode, dir, ref}, func() (sample, error) {
		if err := changeOneByte(filepath.Join(dir, filepath.FromSlash(name))); err != nil {
			return sample{}, err
		}
		return b.measure(func() (usage, error) {
			return runCmd(b.command(t, nil, "push", "--layers", mode, dir, ref+"-changed"))
		})
	})
}

// linkTree makes dst a copy of src whose files are hard links (copies
// where links cannot be made).
func linkTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		if os.Link(p, to) == nil {
			return nil
		}
		return copyFile(p, to)
	})
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// changeOneByte replaces the file (a hard link to the dataset's) by a
// copy whose middle byte differs.
func changeOneByte(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if len(data) == 0 {
		data = []byte{0}
	}
	data[len(data)/2] ^= 0xff
	if err := os.Remove(path); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
