// Command rsswrap runs a command and writes the command's peak resident set
// size in KiB and its CPU time (user + system) in nanoseconds to a file, as
// two decimal numbers. The benchmark runs every tool through it.
//
//	rsswrap OUTFILE COMMAND [ARG...]
//
// The benchmark cannot read a child's peak RSS itself: Go starts children
// with vfork, and Linux folds the parent's high-water mark into the child's
// ru_maxrss at exec, so every tool would report at least the benchmark's
// own (registry-sized) peak. rsswrap is small, so the floor it adds is
// small too; the benchmark measures and reports it by wrapping true(1).
// Standard streams are passed through and the command's exit status is
// rsswrap's.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: rsswrap OUTFILE COMMAND [ARG...]")
		os.Exit(2)
	}
	cmd := exec.Command(os.Args[2], os.Args[3:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	setParentDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "rsswrap:", err)
		os.Exit(127)
	}
	// Pass interrupts on to the command and wait for it.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()
	err := cmd.Wait()
	ps := cmd.ProcessState
	usage := fmt.Sprintf("%d %d\n", maxRSS(ps), (ps.UserTime() + ps.SystemTime()).Nanoseconds())
	if werr := os.WriteFile(os.Args[1], []byte(usage), 0o644); werr != nil {
		fmt.Fprintln(os.Stderr, "rsswrap:", werr)
		os.Exit(1)
	}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		if code := exit.ExitCode(); code >= 0 {
			os.Exit(code)
		}
		os.Exit(128 + 9)
	case err != nil:
		fmt.Fprintln(os.Stderr, "rsswrap:", err)
		os.Exit(1)
	}
}
