package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/blobber-dev/blobber/internal/registrytest"
)

// Job names, in table order.
const (
	jobPush       = "push"
	jobPull       = "pull"
	jobLs         = "ls"
	jobCatSmall   = "cat ~4 KiB file"
	jobCatBig     = "cat biggest file"
	jobRepush     = "re-push (unchanged)"
	jobRepushWarm = "re-push, warm cache"
	// The cache's figures: each runs an untimed command into a new cache,
	// then the timed one with that cache.
	jobLsWarm       = "ls again, warm cache"
	jobCatWarm      = "cat ~4 KiB again, warm cache"
	jobPullWarm     = "pull again, warm cache"
	jobPullAfterCat = "pull after cat of the biggest file"
	jobPushGMP1     = "push, GOMAXPROCS=1"
	// The build alone, with no registry on the machine's cores: the same
	// push into an OCI image layout on the local disk, with both cores and
	// with one.
	jobLayout     = "push to an OCI layout"
	jobLayoutGMP1 = "push to an OCI layout, GOMAXPROCS=1"
	// What --compression zstd gives (zstd inflates faster than gzip): a
	// push to its own repository, then a pull of it.
	jobPushZstd = "push, --compression zstd"
	jobPullZstd = "pull of the zstd push"
)

// sample is one timed run.
type sample struct {
	wall   time.Duration
	cpu    time.Duration // the tool's user + system time
	others time.Duration // CPU time used meanwhile by processes not ours
	rss    int64         // KiB
	stats  registrytest.Stats
}

// result is one job for one tool over all its runs.
type result struct {
	job, tool string
	size      int64  // bytes the throughput is relative to; 0: none
	note      string // why there is no measurement ("n/a", "not installed")
	samples   []sample
	err       error
}

// bench holds what every job needs.
type bench struct {
	ctx       context.Context
	runs      int
	quietWait time.Duration // how long to wait for other processes to go quiet
	work      string        // scratch directory, removed at the end
	host      string        // the counting proxy's host:port
	proxy     *registrytest.Proxy
	tools     map[string]*tool
	rsswrap   string // path of the rsswrap binary
	seq       int    // names rsswrap's output files
	env       []string
	cacheEnv  []string // set by warm: the cache the commands share
	failures  []string
	discarded int // trees moved aside by discard
	stash     *layerStash
}

// runDataset runs every job on ds for every installed tool. The jobs the
// peers share (push, pull, re-push) are interleaved across the tools;
// blobber's own jobs run between and after them, in jobsFor's order.
func (b *bench) runDataset(ds *dataset, toolNames []string) []*result {
	var results []*result
	var tools []*tool
	for _, name := range toolNames {
		if t := b.tools[name]; t != nil {
			tools = append(tools, t)
			continue
		}
		for _, job := range jobsFor(ds) {
			if name == "blobber" || !blobberOnly(job) {
				results = append(results, &result{job: job, tool: name, note: "not installed"})
			}
		}
	}
	// Every push goes to a fresh repository; the last one is read back.
	refs := map[string]string{}
	pushes := b.interleave(ds, jobPush, tools, ds.bytes, func(t *tool, run int) (sample, error) {
		refs[t.name] = b.ref(ds, t.name, "push", run)
		return b.firstPush(ds, t.name, refs[t.name], func() (sample, error) { return b.push(ds, t, refs[t.name], nil) })
	})
	results = append(results, pushes...)
	var pushed []*tool
	for i, t := range tools {
		if pushes[i].err == nil {
			pushed = append(pushed, t)
			continue
		}
		for _, job := range jobsFor(ds)[1:] {
			if t.name == "blobber" || !blobberOnly(job) {
				results = append(results, &result{job: job, tool: t.name, note: "push failed"})
			}
		}
	}
	results = append(results, b.interleave(ds, jobPull, pushed, ds.bytes, func(t *tool, run int) (sample, error) {
		return b.pull(ds, t, refs[t.name], run)
	})...)
	jobs := jobsFor(ds)[2:] // after push and pull
	repush := slices.Index(jobs, jobRepush)
	for _, t := range pushed {
		results = append(results, b.runOwn(ds, t, refs[t.name], jobs[:repush])...)
	}
	results = append(results, b.interleave(ds, jobRepush, pushed, ds.bytes, func(t *tool, _ int) (sample, error) {
		return b.push(ds, t, refs[t.name], nil)
	})...)
	for _, t := range pushed {
		results = append(results, b.runOwn(ds, t, refs[t.name], jobs[repush+1:])...)
	}
	return results
}

// blobberOnly jobs get no row for the peers; ls and cat get "n/a" rows.
func blobberOnly(job string) bool {
	switch job {
	case jobPushGMP1, jobLayout, jobLayoutGMP1, jobRepushWarm, jobLsWarm, jobCatWarm, jobPullWarm, jobPullAfterCat, jobPushZstd, jobPullZstd:
		return true
	}
	return isLayersJob(job)
}

func jobsFor(ds *dataset) []string {
	jobs := []string{jobPush, jobPull, jobLs}
	if pulledDir(ds) != "" {
		jobs = append(jobs, jobPullDir)
	}
	if ds.catSmall != "" {
		jobs = append(jobs, jobCatSmall)
	}
	if ds.catBigJob {
		jobs = append(jobs, jobCatBig)
	}
	jobs = append(jobs, diffJobs(ds)...)
	jobs = append(jobs, syncJobs(ds)...)
	jobs = append(jobs, mountJobs(ds)...)
	jobs = append(jobs, jobRepush)
	jobs = append(jobs, layersJobs(ds)...)
	if ds.scale {
		// The cache's figures would each add an untimed run and a cache as
		// big as the artifact; at this scale the first-use jobs say enough.
		return jobs
	}
	jobs = append(jobs, jobRepushWarm, jobLsWarm)
	if ds.catSmall != "" {
		jobs = append(jobs, jobCatWarm)
	}
	jobs = append(jobs, jobPullWarm)
	if ds.catBig != "" {
		jobs = append(jobs, jobPullAfterCat)
	}
	if ds.name == "large" {
		jobs = append(jobs, jobPushGMP1, jobLayout, jobLayoutGMP1)
	}
	if ds.name == "large" || ds.name == "mixed" {
		jobs = append(jobs, jobPushZstd, jobPullZstd)
	}
	jobs = append(jobs, serveJobs(ds)...)
	return jobs
}

// runOwn runs jobs other than push, pull and re-push for t, on the
// artifact ref its last push made: blobber's reads and measurements of its
// own, and "n/a" rows for what a peer cannot do.
func (b *bench) runOwn(ds *dataset, t *tool, ref string, jobs []string) []*result {
	var results []*result
	var zstdRef string
	for _, job := range jobs {
		switch {
		case t.name != "blobber" && blobberOnly(job):
			// A blobber-only measurement: no row for the peers.
		case t.name != "blobber":
			results = append(results, &result{job: job, tool: t.name, note: "n/a"})
		case isMountJob(job):
			results = append(results, b.mountJob(ds, t, ref, job))
		case isServeJob(job):
			results = append(results, b.serveJob(ds, t, ref, job))
		case isLayersJob(job):
			results = append(results, b.runLayersJob(ds, t, job)...)
		case isSyncJob(job):
			results = append(results, b.syncJob(ds, t, ref, job))
		case job == jobLs:
			results = append(results, b.repeat(ds, job, t.name, 0, func(int) (sample, error) {
				return b.ls(ds, t, ref)
			}))
		case job == jobPullDir:
			results = append(results, b.pullDirResult(ds, t, ref))
		case job == jobCatSmall, job == jobCatBig:
			// Throughput only makes sense for the big file.
			name, size := ds.catSmall, int64(0)
			if job == jobCatBig {
				name, size = ds.catBig, ds.files[ds.catBig]
			}
			results = append(results, b.repeat(ds, job, t.name, size, func(int) (sample, error) {
				return b.cat(ds, t, ref, name)
			}))
		case job == jobDiff:
			results = append(results, b.diffRuns(ds, t, ref))
		case job == jobRepushWarm:
			results = append(results, b.repeat(ds, job, t.name, ds.bytes, func(run int) (sample, error) {
				return b.repushWarm(ds, t, ref, run)
			}))
		case job == jobLsWarm:
			results = append(results, b.repeat(ds, job, t.name, 0, func(run int) (sample, error) {
				return b.warm(run, []string{"ls", ref}, func() (sample, error) { return b.ls(ds, t, ref) })
			}))
		case job == jobCatWarm:
			results = append(results, b.repeat(ds, job, t.name, 0, func(run int) (sample, error) {
				return b.warm(run, []string{"cat", ref, ds.catSmall}, func() (sample, error) { return b.cat(ds, t, ref, ds.catSmall) })
			}))
		case job == jobPullWarm:
			results = append(results, b.repeat(ds, job, t.name, ds.bytes, func(run int) (sample, error) {
				dir := filepath.Join(b.work, fmt.Sprintf("warm-pull-%d", run))
				defer b.discard(ds, dir)
				return b.warm(run, []string{"pull", ref, dir}, func() (sample, error) { return b.pull(ds, t, ref, run) })
			}))
		case job == jobPullAfterCat:
			results = append(results, b.repeat(ds, job, t.name, ds.bytes, func(run int) (sample, error) {
				return b.warm(run, []string{"cat", ref, ds.catBig}, func() (sample, error) { return b.pull(ds, t, ref, run) })
			}))
		case job == jobPushZstd:
			results = append(results, b.repeat(ds, job, t.name, ds.bytes, func(run int) (sample, error) {
				zstdRef = b.ref(ds, t.name, "push-zstd", run)
				return b.firstPush(ds, t.name+"-zstd", zstdRef, func() (sample, error) {
					return b.measure(func() (usage, error) {
						return runCmd(b.command(t, nil, "push", "--compression", "zstd", ds.dir, zstdRef))
					})
				})
			}))
		case job == jobPullZstd && zstdRef == "":
			results = append(results, &result{job: job, tool: t.name, note: "zstd push failed"})
		case job == jobPullZstd:
			results = append(results, b.repeat(ds, job, t.name, ds.bytes, func(run int) (sample, error) {
				return b.pull(ds, t, zstdRef, run)
			}))
		case job == jobLayout, job == jobLayoutGMP1:
			var env []string
			if job == jobLayoutGMP1 {
				env = []string{"GOMAXPROCS=1"}
			}
			results = append(results, b.repeat(ds, job, t.name, ds.bytes, func(run int) (sample, error) {
				return b.pushLayout(ds, t, run, env)
			}))
		case job == jobPushGMP1:
			results = append(results, b.repeat(ds, job, t.name, ds.bytes, func(run int) (sample, error) {
				ref := b.ref(ds, t.name, "push-gomaxprocs1", run)
				return b.firstPush(ds, t.name, ref, func() (sample, error) { return b.push(ds, t, ref, []string{"GOMAXPROCS=1"}) })
			}))
		}
	}
	return results
}
