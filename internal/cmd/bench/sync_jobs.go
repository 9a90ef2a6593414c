package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
)

// Sync rows: blobber sync of a directory that holds the dataset already,
// as a previous sync left it (its state in the cache). Only blobber can:
// the peers can only pull everything.
const (
	jobSyncChanged = "sync of v2 over v1 (1 file changed, 1 added)"
	jobSyncNone    = "sync, nothing changed"
)

// syncJobs are the sync rows of a dataset: on small (10,000 files).
func syncJobs(ds *dataset) []string {
	if ds.name == "small" {
		return []string{jobSyncChanged, jobSyncNone}
	}
	return nil
}

func isSyncJob(job string) bool { return job == jobSyncChanged || job == jobSyncNone }

// syncJob times one sync row: untimed, a sync of ref into a fresh
// directory with a cache of its own (which then holds the sync's state);
// timed, a sync of the second version (jobSyncChanged) or of ref again.
func (b *bench) syncJob(ds *dataset, t *tool, ref, job string) *result {
	target := ref
	changed := ""
	if job == jobSyncChanged {
		target = b.ref(ds, t.name, "sync-v2", 0)
		var err error
		if changed, err = b.pushSecondVersion(ds, t, target); err != nil {
			return &result{job: job, tool: t.name, err: fmt.Errorf("pushing the second version: %w", err)}
		}
	}
	return b.repeat(ds, job, t.name, 0, func(run int) (sample, error) {
		dir := filepath.Join(b.work, fmt.Sprintf("sync-%s-%d", ds.name, run))
		defer b.discard(ds, dir)
		return b.warm(run, []string{"sync", ref, dir}, func() (sample, error) {
			s, err := b.measure(func() (usage, error) { return runCmd(b.command(t, nil, "sync", target, dir)) })
			if err != nil || changed == "" {
				return s, err
			}
			if _, err := os.Stat(filepath.Join(dir, diffAddedName)); err != nil {
				return s, fmt.Errorf("verify: the added file: %w", err)
			}
			old, err := os.ReadFile(filepath.Join(ds.dir, filepath.FromSlash(changed)))
			if err != nil {
				return s, err
			}
			got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(changed)))
			if err != nil || len(got) != len(old) || bytes.Equal(got, old) {
				return s, fmt.Errorf("verify: %s was not synced (%v)", changed, err)
			}
			return s, nil
		})
	})
}
