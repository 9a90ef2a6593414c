package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// dsResult is everything measured on one dataset.
type dsResult struct {
	ds      *dataset
	results []*result
	floors  *floors // nil when not measured
}

const columnsLegend = `
Columns: **time** is the median wall time; **CPU** the tool's user + system
time (crane's plus tar's); **MB/s** is the dataset's (for the big cat, the
file's) bytes divided by the wall time, 1 MB = 10^6 bytes; **requests**
counts every HTTP request the proxy saw; **bytes** is blob bytes downloaded
plus bytes uploaded (manifests and configs not counted); **RSS** is the
tool's peak resident set (crane's, not tar's); **others** is the CPU time
that other processes and kernel threads used during the run (the registry
runs inside the benchmark and is not counted there): a large value means
the machine was shared and the wall time is inflated. crane's push includes
` + "`tar -cf`" + ` of the tree; crane's pull is ` + "`crane export | tar -x`" + `.
Each run starts after sync(1) and after waiting (up to %s) for other
processes to go quiet. Trees of many files (small, mixed, many) that
pulls made are deleted only when the whole benchmark ends, not between
runs: on a file system such as ext4 without a journal, creating files soon
after many were deleted costs far more kernel time, whichever tool comes
next. Push, pull and re-push run interleaved: run 1 of every tool, then
run 2, starting with the next tool. Each metric's median is taken on its
own.
`

// header describes the machine and the run.
func header(cfg config, tools map[string]*tool, notes []string) string {
	legend := fmt.Sprintf(columnsLegend, quietWait(cfg))
	var b strings.Builder
	fmt.Fprintf(&b, "# Blobber benchmark results\n\n")
	goVersion, _ := exec.Command("go", "version").Output()
	fmt.Fprintf(&b, "- Date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "- Go: `%s`\n", strings.TrimSpace(string(goVersion)))
	fmt.Fprintf(&b, "- CPU: %s, %d cores (runtime.NumCPU)\n", cpuModel(), runtime.NumCPU())
	fmt.Fprintf(&b, "- Memory: %s\n", memTotal())
	fmt.Fprintf(&b, "- Command: `%s`\n", cfg.commandLine)
	var names []string
	for _, n := range cfg.tools {
		if t := tools[n]; t != nil {
			names = append(names, fmt.Sprintf("%s (%s)", n, t.version))
		}
	}
	fmt.Fprintf(&b, "- Tools: %s\n", strings.Join(names, "; "))
	fmt.Fprintf(&b, "- Registry: CNCF Distribution in-process (filesystem driver, temp dir) behind a counting proxy, plain HTTP on 127.0.0.1, in the benchmark's own process\n")
	fmt.Fprintf(&b, "- Runs: %d per job, median reported\n", cfg.runs)
	fmt.Fprintf(&b, "- Load average at start: %s\n", loadAverage())
	for _, n := range notes {
		fmt.Fprintf(&b, "- Note: %s\n", n)
	}
	b.WriteString(legend)
	return b.String()
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func memTotal() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
			if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				return fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
			}
		}
	}
	return "unknown"
}

// datasetHeading names the dataset and its size.
func datasetHeading(ds *dataset) string {
	return fmt.Sprintf("\n## %s: %s\n\n%d files, %s (%d bytes).", ds.name, ds.desc, len(ds.files), fmtBytes(ds.bytes), ds.bytes)
}

// table renders one dataset's results.
func table(r dsResult, toolNames []string) string {
	var b strings.Builder
	ds := r.ds
	b.WriteString(datasetHeading(ds))
	if ds.catSmall != "" {
		fmt.Fprintf(&b, " cat ~4 KiB reads `%s` (%d bytes).", ds.catSmall, ds.files[ds.catSmall])
	}
	if ds.catBigJob {
		fmt.Fprintf(&b, " cat biggest reads `%s` (%d bytes).", ds.catBig, ds.files[ds.catBig])
	}
	b.WriteString("\n\n| job | tool | time | CPU | MB/s | requests | bytes | RSS | others |\n|---|---|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, job := range jobsFor(ds) {
		for _, tool := range toolNames {
			res := find(r.results, job, tool)
			if res == nil {
				continue
			}
			if res.note != "" || res.err != nil || len(res.samples) == 0 {
				note := res.note
				if res.err != nil {
					note = "**FAILED**"
				}
				fmt.Fprintf(&b, "| %s | %s | %s | | | | | | |\n", job, tool, note)
				continue
			}
			m := medians(res.samples)
			mbps := ""
			if res.size > 0 {
				mbps = fmt.Sprintf("%.1f", float64(res.size)/1e6/m.wall.Seconds())
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %d | %s | %s | %s |\n", job, tool, fmtDuration(m.wall),
				fmtDuration(m.cpu), mbps, m.requests, fmtBytes(m.bytes), fmtBytes(m.rss*1024), fmtDuration(m.others))
		}
	}
	// Speed-up rows: peer time ÷ blobber time, > 1 means blobber is faster.
	var peers []string
	for _, t := range toolNames {
		if t != "blobber" {
			peers = append(peers, t)
		}
	}
	if slices.Contains(toolNames, "blobber") && len(peers) > 0 {
		jobs := []string{jobPush, jobPull, jobRepush}
		fmt.Fprintf(&b, "\n| speed-up (peer time ÷ blobber time) | %s |\n|---|%s\n", strings.Join(jobs, " | "), strings.Repeat("--:|", len(jobs)))
		for _, p := range peers {
			fmt.Fprintf(&b, "| blobber/%s |", p)
			for _, job := range jobs {
				fmt.Fprintf(&b, " %s |", ratio(find(r.results, job, p), find(r.results, job, "blobber")))
			}
			b.WriteString("\n")
		}
	}
	if one, all := find(r.results, jobPushGMP1, "blobber"), find(r.results, jobPush, "blobber"); ok(one) && ok(all) {
		t1, tn := medians(one.samples).wall, medians(all.samples).wall
		fmt.Fprintf(&b, "\nblobber push parallel speed-up: %s with GOMAXPROCS=1, %s with %d cores: **%.2f×**.\n",
			fmtDuration(t1), fmtDuration(tn), runtime.NumCPU(), t1.Seconds()/tn.Seconds())
	}
	if one, all := find(r.results, jobLayoutGMP1, "blobber"), find(r.results, jobLayout, "blobber"); ok(one) && ok(all) {
		t1, tn := medians(one.samples).wall, medians(all.samples).wall
		fmt.Fprintf(&b, "\nThe same into an OCI layout, with no registry on the cores: %s with GOMAXPROCS=1, %s with %d cores: **%.2f×**.\n",
			fmtDuration(t1), fmtDuration(tn), runtime.NumCPU(), t1.Seconds()/tn.Seconds())
	}
	b.WriteString(pairedRatios(r.results))
	b.WriteString(floorTable(r))
	return b.String()
}

func ok(r *result) bool { return r != nil && r.err == nil && r.note == "" && len(r.samples) > 0 }

func ratio(peer, blobber *result) string {
	if !ok(peer) || !ok(blobber) {
		return "–"
	}
	return fmt.Sprintf("%.2f×", medians(peer.samples).wall.Seconds()/medians(blobber.samples).wall.Seconds())
}

func find(results []*result, job, tool string) *result {
	for _, r := range results {
		if r.job == job && r.tool == tool {
			return r
		}
	}
	return nil
}

// median is the median of each metric, taken on its own.
type median struct {
	wall, cpu, others    time.Duration
	rss, requests, bytes int64
}

func medians(s []sample) median {
	med := func(get func(sample) int64) int64 {
		v := make([]int64, len(s))
		for i, x := range s {
			v[i] = get(x)
		}
		slices.Sort(v)
		if n := len(v); n%2 == 0 {
			return (v[n/2-1] + v[n/2]) / 2
		}
		return v[len(v)/2]
	}
	return median{
		wall:     time.Duration(med(func(x sample) int64 { return int64(x.wall) })),
		cpu:      time.Duration(med(func(x sample) int64 { return int64(x.cpu) })),
		others:   time.Duration(med(func(x sample) int64 { return int64(x.others) })),
		rss:      med(func(x sample) int64 { return x.rss }),
		requests: med(func(x sample) int64 { return x.stats.Requests }),
		bytes:    med(func(x sample) int64 { return x.stats.BlobBytes + x.stats.UploadBytes }),
	}
}

func fmtDuration(d time.Duration) string {
	if d < time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

func fmtBytes(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}
