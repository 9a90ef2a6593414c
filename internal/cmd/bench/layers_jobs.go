package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// The rows of the split into layers (issue 23, docs/layers.md): a first
// push split and its pull, each run beside a `--layers 1` push or pull of
// the same tree, run by run, so that the machine's drift over minutes
// weighs on both alike (the target is a ratio); and a push after one file
// changed, split and not, whose uploaded bytes are the point.
const (
	jobPushLayersAuto  = "push, --layers auto"
	jobPushLayersOne   = "push, --layers 1, beside auto"
	jobPullLayersAuto  = "pull of the --layers auto push"
	jobPullLayersOne   = "pull of the --layers 1 push, beside auto"
	jobRepushChanged   = "re-push after one change, --layers auto"
	jobRepushChanged1  = "re-push after one change, --layers 1"
	changedCopyPattern = "changed-%s-%s-%d"
)

// layersJobs are the split's rows for ds (none at scale, where the
// memory bound is the question). The rows beside auto's are run with
// them, by runLayersJob.
func layersJobs(ds *dataset) []string {
	if ds.scale {
		return nil
	}
	return []string{jobPushLayersAuto, jobPushLayersOne, jobPullLayersAuto, jobPullLayersOne, jobRepushChanged, jobRepushChanged1}
}

func isLayersJob(job string) bool {
	switch job {
	case jobPushLayersAuto, jobPushLayersOne, jobPullLayersAuto, jobPullLayersOne, jobRepushChanged, jobRepushChanged1:
		return true
	}
	return false
}

// layersMode is the --layers value of a paired row.
func layersMode(job string) string {
	if job == jobPushLayersOne || job == jobPullLayersOne {
		return "1"
	}
	return "auto"
}

// runLayersJob runs one of the split's rows for blobber; a first push or
// pull split runs interleaved with its `--layers 1` twin, and returns
// both rows (the twin's own turn returns none).
func (b *bench) runLayersJob(ds *dataset, t *tool, job string) []*result {
	switch job {
	case jobPushLayersOne, jobPullLayersOne:
		return nil
	case jobPushLayersAuto:
		return b.pair(ds, job, jobPushLayersOne, func(job string, run int) (sample, error) {
			mode := layersMode(job)
			ref := b.ref(ds, t.name, "push-layers-"+mode, run)
			// The first push of the split's layers, or of the one layer:
			// the content key hides what the last push of it made.
			return b.firstPush(ds, t.name+"-layers-"+mode, ref, func() (sample, error) {
				return b.measure(func() (usage, error) {
					return runCmd(b.command(t, nil, "push", "--layers", mode, ds.dir, ref))
				})
			})
		})
	case jobPullLayersAuto:
		return b.pair(ds, job, jobPullLayersOne, func(job string, run int) (sample, error) {
			// Run run of the paired push made the ref.
			return b.pull(ds, t, b.ref(ds, t.name, "push-layers-"+layersMode(job), run), run)
		})
	}
	mode := "auto"
	if job == jobRepushChanged1 {
		mode = "1"
	}
	return []*result{b.repeat(ds, job, t.name, ds.bytes, func(run int) (sample, error) {
		return b.repushChanged(ds, t, mode, run)
	})}
}

// pair runs jobs a and b (blobber's) b.runs times each, run by run,
// starting with a on odd runs and with b on even ones. A job whose run
// fails is not run again.
func (b *bench) pair(ds *dataset, a, other string, once func(job string, run int) (sample, error)) []*result {
	res := []*result{{job: a, tool: "blobber", size: ds.bytes}, {job: other, tool: "blobber", size: ds.bytes}}
	for run := 1; run <= b.runs; run++ {
		for k := range res {
			r := res[(k+run-1)%2]
			if r.err != nil {
				continue
			}
			s, err := once(r.job, run)
			b.record(ds, r, run, s, err)
		}
	}
	return res
}

// pairedRatios says, for the split's first push and pull on one dataset,
// the median over the runs of auto's time over the `--layers 1` twin's
// in the same run; "" when a row is missing.
func pairedRatios(results []*result) string {
	var parts []string
	for _, p := range [][3]string{{"push", jobPushLayersAuto, jobPushLayersOne}, {"pull", jobPullLayersAuto, jobPullLayersOne}} {
		auto, one := find(results, p[1], "blobber"), find(results, p[2], "blobber")
		if !ok(auto) || !ok(one) || len(auto.samples) != len(one.samples) {
			return ""
		}
		ratios := make([]float64, len(auto.samples))
		for i := range auto.samples {
			ratios[i] = auto.samples[i].wall.Seconds() / one.samples[i].wall.Seconds()
		}
		slices.Sort(ratios)
		parts = append(parts, fmt.Sprintf("%s **%.2f×**", p[0], medianOf(ratios)))
	}
	return fmt.Sprintf("\n`--layers auto` ÷ `--layers 1`, run beside each other (the median of the runs' ratios): %s.\n", strings.Join(parts, ", "))
}

// medianOf is the median of sorted values.
func medianOf(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
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
