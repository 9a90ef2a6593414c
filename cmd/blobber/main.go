// Command blobber pushes directories to OCI registries as eStargz
// artifacts and lists, reads and pulls them back.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"runtime/trace"
	"syscall"
)

func main() { os.Exit(run()) }

// record starts writing what start records into the file the environment
// variable env names, if any, and returns what stops it. A file that
// cannot be written is reported, and the command goes on.
func record(env, what string, start func(io.Writer) error, stop func()) (done func()) {
	path := os.Getenv(env)
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		if err = start(f); err == nil {
			return func() { stop(); f.Close() }
		}
		f.Close()
	}
	fmt.Fprintf(os.Stderr, "blobber: %s: %v\n", what, err)
	return func() {}
}

func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// BLOBBER_CPUPROFILE=file writes a CPU profile of the command, for
	// `go tool pprof` (see BENCHMARKS.md).
	defer record("BLOBBER_CPUPROFILE", "cpu profile", pprof.StartCPUProfile, pprof.StopCPUProfile)()
	// BLOBBER_TRACE=file writes an execution trace (`go tool trace`): where
	// the goroutines wait, and when the CPUs go idle.
	defer record("BLOBBER_TRACE", "trace", trace.Start, trace.Stop)()
	// BLOBBER_MEMPROFILE=file writes a heap profile when the command ends
	// (what is still live then, and everything allocated).
	if path := os.Getenv("BLOBBER_MEMPROFILE"); path != "" {
		runtime.MemProfileRate = 64 << 10
		defer func() {
			f, err := os.Create(path)
			if err == nil {
				err = errors.Join(pprof.Lookup("heap").WriteTo(f, 0), f.Close())
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "blobber: heap profile:", err)
			}
		}()
	}
	setSoftMemoryLimit(softMemoryLimit)
	cmd := newRootCmd()
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	return reportError(cmd.ErrOrStderr(), err)
}

// Blobber's data buffers are bounded in bytes (pull.PullBudget, the layer
// builder's budget), whatever the cores; a soft memory limit keeps the
// garbage collector from letting the heap double past them. An artifact of
// hundreds of thousands of files needs more for its table of contents: the
// collector then works harder (GOMEMLIMIT=off trades memory back for
// speed).
const softMemoryLimit = 36 << 20

// pushMemoryLimit is the soft limit of a push: the builder's budget and the
// buffers it keeps for reuse are live through the whole build, and under
// the general limit the collector ran after every few buffers of a tree of
// mixed sizes (docs/notes/benchmarks-history.md, "The collector and a
// push").
const pushMemoryLimit = 42 << 20

// setSoftMemoryLimit sets the collector's soft limit, unless the user set
// one with GOMEMLIMIT.
func setSoftMemoryLimit(n int64) {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(n)
	}
}
