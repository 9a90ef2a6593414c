package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// discard removes a tree a pull made. A tree of many files is moved aside
// instead, and goes when the run ends: on ext4 without a journal (this
// VM's root file system), allocating an inode skips every inode freed in
// the last minute, so a pull of many files right after another tree of
// many was deleted spent most of its kernel time in that scan (perf:
// recently_deleted under ext4_create), charged to whichever tool ran next;
// even the few hundred files of mixed paid for it (BENCHMARKS.md, pulled
// trees).
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
