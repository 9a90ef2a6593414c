// Command bench measures the blobber CLI against the ORAS CLI and crane:
// push, pull, ls, cat and re-push of three generated datasets (many small
// files, a few large ones, a mix) through a CNCF Distribution registry
// started in-process behind a counting proxy. It reports median wall time,
// throughput, requests, bytes exchanged and peak RSS per job and tool as
// Markdown, on stdout and in the --out file.
//
//	go run ./internal/cmd/bench [--quick] [--runs N] [--datasets small,large,mixed]
//	    [--tools blobber,oras,crane] [--out BENCHMARKS-results.md]
//
// Two more datasets run only when named, for the memory bound at scale:
// many (200,000 small files) and huge (10 GiB), best with --tools blobber
// (make bench-scale); the peers take very long on them.
//
// Tools and datasets are cached under $XDG_CACHE_HOME/blobber-bench (see
// os.UserCacheDir); blobber is rebuilt from this checkout on every run, the
// peers are installed once with `go install pkg@version`. Every tool runs
// under ./rsswrap, which reports its peak RSS and CPU time. The program must
// run from inside the module (it builds ./cmd/blobber) and needs tar and
// sync. BENCHMARKS.md describes the method and reads the results.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/blobber-dev/blobber/internal/registrytest"
)

type config struct {
	quick       bool
	runs        int
	datasets    []string
	tools       []string
	out         string
	commandLine string
	floorsOnly  bool     // measure only the floors (and blobber's push that they move)
	levels      []string // compression levels to compare (levels mode), "" none
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = runBench(ctx, cfg)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var cfg config
	var err error
	var datasets, tools string
	fs.BoolVar(&cfg.quick, "quick", false, "smaller datasets (small 2,000 files, large 128 MiB, mixed 50 MiB, many 20,000 files, huge 2 GiB) and 1 run")
	fs.IntVar(&cfg.runs, "runs", 3, "runs per job (the median is reported); 1 with --quick unless set")
	fs.StringVar(&datasets, "datasets", defaultDatasets, "comma-separated datasets: small, large, mixed;\n"+
		"many (200,000 files) and huge (10 GiB) run only when named, best with --tools blobber,\n"+
		"and need up to 42 GiB of free disk together")
	fs.StringVar(&tools, "tools", "blobber,oras,crane", "comma-separated tools")
	fs.StringVar(&cfg.out, "out", "", "also write the Markdown report to this file")
	fs.BoolVar(&cfg.floorsOnly, "floors-only", false, "measure only the machine's floors on each dataset (no jobs, no peers)")
	var levels string
	fs.StringVar(&levels, "compression-levels", "", "instead of the jobs, blobber's push time, layer size and pull time at each of these levels\n"+
		"(gzip 1-9, zstd:fastest|default|better|best, or all)")
	if err = fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	runsSet := false
	fs.Visit(func(f *flag.Flag) { runsSet = runsSet || f.Name == "runs" })
	if cfg.quick && !runsSet {
		cfg.runs = 1
	}
	if cfg.runs < 1 {
		return cfg, errors.New("--runs must be at least 1")
	}
	cfg.datasets = splitList(datasets)
	if cfg.levels, err = parseLevels(levels); err != nil {
		return cfg, err
	}
	if cfg.levels != nil || cfg.floorsOnly {
		tools = "blobber"
	}
	cfg.tools = splitList(tools)
	specs := datasetSpecs(false)
	for _, d := range cfg.datasets {
		if _, ok := specs[d]; !ok {
			return cfg, fmt.Errorf("unknown dataset %q (want small, large, mixed, many or huge)", d)
		}
	}
	for _, t := range cfg.tools {
		if t != "blobber" && peers[t].pkg == "" {
			return cfg, fmt.Errorf("unknown tool %q (want blobber, oras or crane)", t)
		}
	}
	cfg.commandLine = strings.TrimSpace("go run ./internal/cmd/bench " + strings.Join(args, " "))
	return cfg, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func runBench(ctx context.Context, cfg config) error {
	start := time.Now()
	modRoot, err := moduleRoot()
	if err != nil {
		return err
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return err
	}
	cacheDir := filepath.Join(base, "blobber-bench")

	wrap, err := setupTool(ctx, cacheDir, modRoot, "rsswrap")
	if err != nil {
		return err
	}
	tools, notes := setupTools(ctx, cacheDir, modRoot, cfg.tools)
	if len(tools) == 0 {
		return errors.New("no tool could be set up")
	}

	work, err := os.MkdirTemp("", "blobber-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	dataDir := filepath.Join(cacheDir, "data")
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return err
	}
	specs := datasetSpecs(cfg.quick)
	var chosen []datasetSpec
	for _, name := range cfg.datasets {
		chosen = append(chosen, specs[name])
		if specs[name].scale && (len(tools) > 1 || tools["blobber"] == nil) {
			logf("note: on %s the peers take very long; --tools blobber measures blobber alone", name)
		}
	}
	if err := checkDiskSpace(dataDir, work, chosen, len(tools), cfg.runs); err != nil {
		return err
	}
	dockerConfig := filepath.Join(work, "docker") // no credentials, no helpers
	if err := os.Mkdir(dockerConfig, 0o700); err != nil {
		return err
	}
	storage := filepath.Join(work, "registry")
	reg, err := registrytest.StartServer(registrytest.WithFilesystem(storage))
	if err != nil {
		return err
	}
	defer reg.Close()
	proxy, err := registrytest.NewCountingProxy(reg.URL())
	if err != nil {
		return err
	}
	defer proxy.Close()
	logf("registry %s behind proxy %s", reg.Host(), proxy.Host())

	b := &bench{
		ctx: ctx, runs: cfg.runs, quietWait: quietWait(cfg), work: work, host: proxy.Host(), proxy: proxy, tools: tools,
		rsswrap: wrap.path, env: append(os.Environ(), "DOCKER_CONFIG="+dockerConfig),
		stash: newLayerStash(storage, reg.Host(), work),
	}
	// What rsswrap itself adds: the peak RSS it reports for true(1).
	floor, err := runCmd(b.command(&tool{name: "true", path: "true"}, nil))
	if err != nil {
		return err
	}
	notes = append(notes, fmt.Sprintf("RSS is measured by rsswrap (internal/cmd/bench/rsswrap); it reports %s for true(1), the floor of the RSS column", fmtBytes(floor.rss*1024)))
	report := header(cfg, tools, notes)
	for _, spec := range chosen {
		ds, err := ensureDataset(dataDir, spec)
		if err != nil {
			return err
		}
		logf("dataset %s: %d files, %s in %s", ds.key, len(ds.files), fmtBytes(ds.bytes), ds.dir)
		report += b.datasetReport(ds, cfg)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if len(b.failures) > 0 {
		report += "\n## Failures\n\n"
		for _, f := range b.failures {
			report += "- " + strings.ReplaceAll(strings.TrimSpace(f), "\n", " ⏎ ") + "\n"
		}
	}
	report += fmt.Sprintf("\nTotal benchmark time: %s. Load average at the end: %s.\n", time.Since(start).Round(time.Second), loadAverage())

	fmt.Print(report)
	if cfg.out != "" {
		if err := os.WriteFile(cfg.out, []byte(report), 0o644); err != nil {
			return err
		}
		logf("wrote %s", cfg.out)
	}
	if len(b.failures) > 0 {
		return fmt.Errorf("%d job(s) failed; see the Failures section", len(b.failures))
	}
	return nil
}

// quietWait is how long each run waits for other processes to go quiet:
// a quick run has to stay quick.
func quietWait(cfg config) time.Duration {
	if cfg.quick {
		return 3 * time.Second
	}
	return 15 * time.Second
}

// moduleRoot is the directory of the main module's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("run the benchmark from inside the blobber module")
	}
	return filepath.Dir(gomod), nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}
