package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// What blobber mount gives (issue 22): a command run on the mount, timed
// from when the mount is ready, with the registry traffic counted from
// the mount's start (the table of contents it reads included). The CPU
// and RSS columns are the blobber mount process's.
const (
	jobMountCat    = "cat ~4 KiB file through mount"
	jobMountSHA256 = "sha256sum biggest file through mount"
	jobMountLsLR   = "ls -lR through mount"
)

// mountJobs are the mount jobs of ds, which runOwn runs for blobber and
// gives the peers "n/a" rows for.
func mountJobs(ds *dataset) []string {
	if ds.scale {
		return nil
	}
	var jobs []string
	if ds.catSmall != "" {
		jobs = append(jobs, jobMountCat)
	}
	if ds.name == "large" {
		jobs = append(jobs, jobMountSHA256)
	}
	if ds.name == "small" {
		jobs = append(jobs, jobMountLsLR)
	}
	return jobs
}

func isMountJob(job string) bool {
	return job == jobMountCat || job == jobMountSHA256 || job == jobMountLsLR
}

// fuseUnavailable says why no FUSE mount can be made here, or "".
func fuseUnavailable() string {
	f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
	if err != nil {
		return "no /dev/fuse"
	}
	f.Close()
	return ""
}

// mountJob runs one mount job b.runs times.
func (b *bench) mountJob(ds *dataset, t *tool, ref, job string) *result {
	if why := fuseUnavailable(); why != "" {
		return &result{job: job, tool: t.name, note: why}
	}
	var size int64
	var run func(dir string) (sample, error)
	switch job {
	case jobMountCat:
		run = func(dir string) (sample, error) {
			return b.onMount(dir, ds.sums[ds.catSmall], sha256Of, "cat", filepath.Join(dir, ds.catSmall))
		}
	case jobMountSHA256:
		size = ds.files[ds.catBig]
		run = func(dir string) (sample, error) {
			return b.onMount(dir, ds.sums[ds.catBig], firstField, "sha256sum", filepath.Join(dir, ds.catBig))
		}
	case jobMountLsLR:
		run = func(dir string) (sample, error) {
			return b.onMount(dir, fmt.Sprint(len(ds.files)), countRegular, "ls", "-lR", dir)
		}
	}
	return b.repeat(ds, job, t.name, size, func(int) (sample, error) { return b.throughMount(t, ref, run) })
}

// throughMount mounts ref with a new, empty cache, runs run on the mount,
// and ends the mount with SIGTERM, as Ctrl-C would.
func (b *bench) throughMount(t *tool, ref string, run func(dir string) (sample, error)) (sample, error) {
	dir := filepath.Join(b.work, "mnt")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return sample{}, err
	}
	_ = exec.CommandContext(b.ctx, "sync").Run()
	if !waitQuiet(b.quietWait) {
		logf("the machine is busy with other processes; measuring anyway")
	}
	b.proxy.Reset()
	p := b.command(t, nil, "mount", ref, dir)
	var out cappedBuffer
	p.cmd.Stdout, p.cmd.Stderr = &out, &out
	if err := p.cmd.Start(); err != nil {
		return sample{}, err
	}
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	stop := func() (usage, error) {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		err := <-exited
		if err != nil {
			err = fmt.Errorf("%s: %v\n%s", p, err, strings.TrimSpace(out.String()))
		}
		return p.usage(), err
	}
	if err := waitMounted(dir, exited, time.Minute); err != nil {
		_, serr := stop()
		return sample{}, fmt.Errorf("%s: %v (%v)\n%s", p, err, serr, strings.TrimSpace(out.String()))
	}
	s, err := run(dir)
	s.stats = b.proxy.Stats()
	u, serr := stop()
	s.cpu, s.rss = u.cpu, u.rss
	if err == nil {
		err = serr
	}
	if err == nil && isMountPoint(dir) {
		err = fmt.Errorf("%s is still mounted after blobber mount ended", dir)
	}
	return s, err
}

// onMount times name args, and checks what summarize makes of its output
// against want.
func (b *bench) onMount(dir, want string, summarize func([]byte) string, name string, args ...string) (sample, error) {
	cmd := exec.CommandContext(b.ctx, name, args...)
	var stderr cappedBuffer
	cmd.Stderr = &stderr
	meter := startCPUMeter()
	start := time.Now()
	output, err := cmd.Output()
	s := sample{wall: time.Since(start), others: meter.others()}
	if err != nil {
		return s, fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	if got := summarize(output); got != want {
		return s, fmt.Errorf("%s %s through the mount: got %s, want %s", name, strings.Join(args, " "), got, want)
	}
	return s, nil
}

func sha256Of(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func firstField(b []byte) string {
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return ""
}

// countRegular counts the regular files ls -lR lists.
func countRegular(b []byte) string {
	n := 0
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "-") {
			n++
		}
	}
	return fmt.Sprint(n)
}

// waitMounted waits until dir is a mount point, or the mount command has
// ended, or limit has passed.
func waitMounted(dir string, exited chan error, limit time.Duration) error {
	for deadline := time.Now().Add(limit); !isMountPoint(dir); time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-exited:
			exited <- err // for stop
			return fmt.Errorf("ended before mounting: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not mounted after %s", limit)
		}
	}
	return nil
}

// isMountPoint tells whether dir is a mount point in /proc/self/mountinfo.
func isMountPoint(dir string) bool {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == dir {
			return true
		}
	}
	return false
}
