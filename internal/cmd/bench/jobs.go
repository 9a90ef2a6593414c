package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
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
	// What --compression zstd gives (zstd inflates ~3 times faster than
	// gzip): a push to its own repository, then a pull of it.
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

// discard removes a tree a pull made. A tree of many files is moved aside
// instead, and goes when the run ends: on ext4 without a journal (this
// VM's root file system), allocating an inode skips every inode freed in
// the last minute, so a pull of 10,000 files right after another tree of
// 10,000 was deleted spent seconds of kernel time in that scan (perf:
// recently_deleted under ext4_create), charged to whichever tool ran next;
// creating the 500 files of mixed took 0.4 s of CPU that way.
func (b *bench) discard(ds *dataset, dir string) {
	if ds.keepPulls {
		b.discarded++
		trash := filepath.Join(b.work, "discarded")
		if os.MkdirAll(trash, 0o755) == nil && os.Rename(dir, filepath.Join(trash, strconv.Itoa(b.discarded))) == nil {
			return
		}
	}
	_ = os.RemoveAll(dir)
}

// firstPush runs push, a timed push of ds by the tool whose content is
// named content, as a first push of its layer (see layerStash).
func (b *bench) firstPush(ds *dataset, content, ref string, push func() (sample, error)) (sample, error) {
	if b.stash == nil {
		return push()
	}
	return b.stash.around(b.ctx, ds.key+"/"+content, ref, push)
}

// measure times fn and records the registry traffic it caused. It first
// flushes dirty pages (sync(1)) so that the writeback of a previous job
// (a pull, a generated dataset, a removed tree) does not slow this one.
// It also waits (up to b.quietWait) for other processes to leave the CPUs
// alone.
func (b *bench) measure(fn func() (usage, error)) (sample, error) {
	_ = exec.CommandContext(b.ctx, "sync").Run()
	if !waitQuiet(b.quietWait) {
		logf("the machine is busy with other processes; measuring anyway")
	}
	b.proxy.Reset()
	meter := startCPUMeter()
	start := time.Now()
	u, err := fn()
	s := sample{wall: time.Since(start), cpu: u.cpu, rss: u.rss}
	s.others, s.stats = meter.others(), b.proxy.Stats()
	return s, err
}

// repeat runs once b.runs times; once does any setup, calls measure and
// verifies the outcome.
func (b *bench) repeat(ds *dataset, job, tool string, size int64, once func(run int) (sample, error)) *result {
	res := &result{job: job, tool: tool, size: size}
	for run := 1; run <= b.runs && res.err == nil; run++ {
		s, err := once(run)
		b.record(ds, res, run, s, err)
	}
	return res
}

// interleave runs job b.runs times for each tool, run by run: each run
// goes to every tool in turn, starting with a different one each time, so
// that a machine whose speed drifts over minutes (as a VM's does) weighs
// on every tool's figures alike. A tool whose run fails is not run again.
func (b *bench) interleave(ds *dataset, job string, tools []*tool, size int64, once func(t *tool, run int) (sample, error)) []*result {
	res := make([]*result, len(tools))
	for i, t := range tools {
		res[i] = &result{job: job, tool: t.name, size: size}
	}
	for run := 1; run <= b.runs; run++ {
		for k := range tools {
			i := (k + run - 1) % len(tools)
			if res[i].err != nil {
				continue
			}
			s, err := once(tools[i], run)
			b.record(ds, res[i], run, s, err)
		}
	}
	return res
}

// record adds the outcome of one run to res, and logs it.
func (b *bench) record(ds *dataset, res *result, run int, s sample, err error) {
	if err != nil {
		res.err = err
		msg := fmt.Sprintf("%s / %s / %s (run %d): %v", ds.name, res.tool, res.job, run, err)
		b.failures = append(b.failures, msg)
		logf("FAIL: %s", msg)
		return
	}
	res.samples = append(res.samples, s)
	logf("%-5s %-6s %-20s run %d/%d: %8s  cpu %8s  %4d req  %8s  rss %8s  others' cpu %s", ds.name, res.tool, res.job, run, b.runs,
		fmtDuration(s.wall), fmtDuration(s.cpu), s.stats.Requests, fmtBytes(s.stats.BlobBytes+s.stats.UploadBytes),
		fmtBytes(s.rss*1024), fmtDuration(s.others))
}

// command runs tool t under rsswrap, which measures its peak RSS.
//
// blobber keeps a local cache of blobs, manifests and built layers; unless
// extraEnv names one, each blobber command gets a new, empty cache
// directory (removed afterwards), so that every run talks to the registry
// as a first use on a fresh machine would.
func (b *bench) command(t *tool, extraEnv []string, args ...string) proc {
	b.seq++
	p := proc{rssFile: filepath.Join(b.work, fmt.Sprintf("rss-%d", b.seq))}
	extraEnv = append(append([]string(nil), extraEnv...), b.cacheEnv...)
	env := append(append([]string(nil), b.env...), extraEnv...)
	if t.name == "blobber" && !slices.ContainsFunc(extraEnv, func(e string) bool { return strings.HasPrefix(e, "BLOBBER_CACHE_DIR=") }) {
		p.cacheDir = filepath.Join(b.work, fmt.Sprintf("blobber-cache-%d", b.seq))
		env = append(env, "BLOBBER_CACHE_DIR="+p.cacheDir)
	}
	p.cmd = exec.CommandContext(b.ctx, b.rsswrap, append([]string{p.rssFile, t.path}, args...)...)
	p.cmd.Env = env
	return p
}

// tar runs tar(1) under rsswrap too: crane's CPU column includes tar's.
func (b *bench) tar(args ...string) proc {
	return b.command(&tool{name: "tar", path: "tar"}, nil, args...)
}

func (b *bench) ref(ds *dataset, tool, job string, run int) string {
	return fmt.Sprintf("%s/bench/%s/%s-%s-%d:v1", b.host, ds.name, tool, job, run)
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
	return false
}

func jobsFor(ds *dataset) []string {
	jobs := []string{jobPush, jobPull, jobLs}
	if ds.catSmall != "" {
		jobs = append(jobs, jobCatSmall)
	}
	if ds.catBigJob {
		jobs = append(jobs, jobCatBig)
	}
	jobs = append(jobs, jobRepush)
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
		case job == jobLs:
			results = append(results, b.repeat(ds, job, t.name, 0, func(int) (sample, error) {
				return b.ls(ds, t, ref)
			}))
		case job == jobCatSmall, job == jobCatBig:
			// Throughput only makes sense for the big file.
			name, size := ds.catSmall, int64(0)
			if job == jobCatBig {
				name, size = ds.catBig, ds.files[ds.catBig]
			}
			results = append(results, b.repeat(ds, job, t.name, size, func(int) (sample, error) {
				return b.cat(ds, t, ref, name)
			}))
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

// warm runs the blobber command prepare (untimed, its output discarded)
// with a new cache, then measures timed with the same cache.
func (b *bench) warm(run int, prepare []string, timed func() (sample, error)) (sample, error) {
	cache := filepath.Join(b.work, fmt.Sprintf("warm-read-cache-%d", run))
	defer os.RemoveAll(cache)
	b.cacheEnv = []string{"BLOBBER_CACHE_DIR=" + cache}
	defer func() { b.cacheEnv = nil }()
	if _, err := runCmd(b.command(b.tools["blobber"], nil, prepare...)); err != nil {
		return sample{}, fmt.Errorf("warming the cache with %v: %w", prepare, err)
	}
	return timed()
}

// push pushes ds to ref. crane's time includes making the tar it appends.
func (b *bench) push(ds *dataset, t *tool, ref string, env []string) (sample, error) {
	switch t.name {
	case "blobber":
		return b.measure(func() (usage, error) { return runCmd(b.command(t, env, "push", ds.dir, ref)) })
	case "oras":
		// ORAS packs a directory argument as a tar.gz layer named after it.
		cmd := b.command(t, env, "push", "--plain-http", ref, filepath.Base(ds.dir))
		cmd.cmd.Dir = filepath.Dir(ds.dir)
		return b.measure(func() (usage, error) { return runCmd(cmd) })
	case "crane":
		tarPath := filepath.Join(b.work, "crane-layer.tar")
		defer os.Remove(tarPath)
		return b.measure(func() (usage, error) {
			tu, err := runCmd(b.tar("-cf", tarPath, "-C", ds.dir, "."))
			if err != nil {
				return usage{}, err
			}
			u, err := runCmd(b.command(t, env, "append", "--insecure", "-f", tarPath, "-t", ref))
			u.cpu += tu.cpu
			return u, err
		})
	}
	return sample{}, fmt.Errorf("no push for %s", t.name)
}

// pushLayout pushes ds into a new OCI image layout, removed afterwards.
func (b *bench) pushLayout(ds *dataset, t *tool, run int, env []string) (sample, error) {
	dir := filepath.Join(b.work, fmt.Sprintf("layout-%d", run))
	defer os.RemoveAll(dir)
	return b.measure(func() (usage, error) {
		return runCmd(b.command(t, env, "push", "--oci-layout", ds.dir, dir+":v1"))
	})
}

// repushWarm pushes ds to ref again with blobber's cache as the push that
// made it left it: an untimed push into a new cache, then the timed one.
func (b *bench) repushWarm(ds *dataset, t *tool, ref string, run int) (sample, error) {
	cache := filepath.Join(b.work, fmt.Sprintf("warm-cache-%d", run))
	defer os.RemoveAll(cache)
	env := []string{"BLOBBER_CACHE_DIR=" + cache}
	if _, err := runCmd(b.command(t, env, "push", ds.dir, ref)); err != nil {
		return sample{}, err
	}
	return b.push(ds, t, ref, env)
}

// pull pulls ref into an empty directory and checks the tree against ds.
func (b *bench) pull(ds *dataset, t *tool, ref string, run int) (sample, error) {
	out := filepath.Join(b.work, fmt.Sprintf("pull-%s-%s-%d", ds.name, t.name, run))
	if err := os.MkdirAll(out, 0o755); err != nil {
		return sample{}, err
	}
	defer b.discard(ds, out)
	got := out
	var fn func() (usage, error)
	switch t.name {
	case "blobber":
		fn = func() (usage, error) { return runCmd(b.command(t, nil, "pull", ref, out)) }
	case "oras":
		got = filepath.Join(out, filepath.Base(ds.dir))
		fn = func() (usage, error) { return runCmd(b.command(t, nil, "pull", "--plain-http", "-o", out, ref)) }
	case "crane":
		fn = func() (usage, error) {
			return runPipe(b.command(t, nil, "export", "--insecure", ref, "-"),
				b.tar("-x", "-C", out))
		}
	}
	s, err := b.measure(fn)
	if err != nil {
		return s, err
	}
	return s, verifyTree(ds, got)
}

// ls lists ref with blobber and checks that every entry is there.
func (b *bench) ls(ds *dataset, t *tool, ref string) (sample, error) {
	outPath := filepath.Join(b.work, "ls.out")
	defer os.Remove(outPath)
	f, err := os.Create(outPath)
	if err != nil {
		return sample{}, err
	}
	defer f.Close()
	cmd := b.command(t, nil, "ls", ref)
	cmd.cmd.Stdout = f
	s, err := b.measure(func() (usage, error) { return runCmd(cmd) })
	if err != nil {
		return s, err
	}
	listing, err := os.ReadFile(outPath)
	if err != nil {
		return s, err
	}
	lines := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(listing))
	for sc.Scan() {
		lines[sc.Text()] = true
	}
	if len(lines) != ds.entries {
		return s, fmt.Errorf("ls printed %d entries, the tree has %d", len(lines), ds.entries)
	}
	for name := range ds.files {
		if !lines[name] {
			return s, fmt.Errorf("ls did not list %s", name)
		}
	}
	return s, nil
}

// cat reads one file with blobber (stdout to a file) and checks its digest.
func (b *bench) cat(ds *dataset, t *tool, ref, name string) (sample, error) {
	outPath := filepath.Join(b.work, "cat.out")
	defer os.Remove(outPath)
	f, err := os.Create(outPath)
	if err != nil {
		return sample{}, err
	}
	defer f.Close()
	cmd := b.command(t, nil, "cat", ref, name)
	cmd.cmd.Stdout = f
	s, err := b.measure(func() (usage, error) { return runCmd(cmd) })
	if err != nil {
		return s, err
	}
	sum, err := fileSHA256(outPath)
	if err != nil {
		return s, err
	}
	if sum != ds.sums[name] {
		return s, fmt.Errorf("cat %s: sha256 %s, want %s", name, sum, ds.sums[name])
	}
	return s, nil
}

// verifyTree compares a pulled tree with the dataset: the same regular
// files with the same sizes, and the same content for a sample of them.
func verifyTree(ds *dataset, dir string) error {
	files, _, err := scanTree(dir)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	var total int64
	for _, size := range files {
		total += size
	}
	if len(files) != len(ds.files) || total != ds.bytes {
		return fmt.Errorf("verify: pulled %d files, %d bytes; want %d files, %d bytes", len(files), total, len(ds.files), ds.bytes)
	}
	for name, size := range ds.files {
		if got, ok := files[name]; !ok || got != size {
			return fmt.Errorf("verify: %s: pulled size %d (present: %v), want %d", name, got, ok, size)
		}
	}
	names := make([]string, 0, len(ds.sums))
	for name := range ds.sums {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		sum, err := fileSHA256(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		if sum != ds.sums[name] {
			return fmt.Errorf("verify: %s: sha256 %s, want %s", name, sum, ds.sums[name])
		}
	}
	return nil
}
