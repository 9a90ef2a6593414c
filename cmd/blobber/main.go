// Command blobber pushes directories to OCI registries as eStargz
// artifacts and lists, reads and pulls them back.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"runtime/trace"
	"syscall"
)

func main() { os.Exit(run()) }

func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// BLOBBER_CPUPROFILE=file writes a CPU profile of the command, for
	// `go tool pprof` (see BENCHMARKS.md).
	if path := os.Getenv("BLOBBER_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err == nil {
				defer pprof.StopCPUProfile()
			}
		} else {
			fmt.Fprintln(os.Stderr, "blobber: cpu profile:", err)
		}
	}
	// BLOBBER_TRACE=file writes an execution trace (`go tool trace`): where
	// the goroutines wait, and when the CPUs go idle.
	if path := os.Getenv("BLOBBER_TRACE"); path != "" {
		if f, err := os.Create(path); err == nil {
			defer f.Close()
			if err := trace.Start(f); err == nil {
				defer trace.Stop()
			}
		} else {
			fmt.Fprintln(os.Stderr, "blobber: trace:", err)
		}
	}
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
	if os.Getenv("GOMEMLIMIT") == "" {
		// Blobber's data buffers are bounded (a few chunks per core); this
		// keeps the garbage collector from letting the heap double past
		// them. An artifact of hundreds of thousands of files needs more
		// for its table of contents: the collector then works harder
		// (GOMEMLIMIT=off trades memory back for speed).
		debug.SetMemoryLimit(100 << 20)
	}
	cmd := newRootCmd()
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	return reportError(cmd.ErrOrStderr(), err)
}
