//go:build unix

package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/creack/pty"

	"github.com/blobber-dev/blobber/internal/registrytest"
)

// runOnTerminal runs the blobber command (the test binary, which
// testscript.Main puts on $PATH under that name) with stdout and stderr on
// a pseudo-terminal of the given size, and returns what it wrote there.
func runOnTerminal(t *testing.T, size pty.Winsize, args ...string) string {
	t.Helper()
	cmd := exec.Command("blobber", args...)
	cmd.Env = append(os.Environ(), "BLOBBER_CACHE_DIR="+filepath.Join(t.TempDir(), "cache"), "DOCKER_CONFIG="+t.TempDir())
	tty, err := pty.StartWithSize(cmd, &size)
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	var out bytes.Buffer
	_, err = io.Copy(&out, tty)
	if err != nil && !errors.Is(err, os.ErrClosed) && !strings.Contains(err.Error(), "input/output error") {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("blobber %s: %v\n%q", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// lastFrame is what a terminal shows of the bars once out is drawn: the
// text after the last escape sequence that moves the cursor up and clears
// (each redraw begins with one).
func lastFrame(out string) string {
	redraws := regexp.MustCompile(`\x1b\[[0-9]+A\x1b\[J`).FindAllStringIndex(out, -1)
	if len(redraws) == 0 {
		return out
	}
	return out[redraws[len(redraws)-1][1]:]
}

var digestLine = regexp.MustCompile(`sha256:[0-9a-f]{64}\r?\n$`)

// TestProgressBarsFinishBeforeTheResult: pushing a tree whose layer the
// registry already has (without the cache that would skip the build), the
// upload begun while building turns out unnecessary. Its bar is removed,
// not left part-way, and the digest is the last thing written, after the
// bars' last frame.
func TestProgressBarsFinishBeforeTheResult(t *testing.T) {
	reg := registrytest.Start(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hello.txt"), bytes.Repeat([]byte("hello, bars\n"), 1<<16), 0o644); err != nil {
		t.Fatal(err)
	}
	ref := reg.Host() + "/pty/site:v1"
	size := pty.Winsize{Rows: 24, Cols: 100}
	runOnTerminal(t, size, "push", "--no-cache", dir, ref)
	out := runOnTerminal(t, size, "push", "--no-cache", dir, ref)

	loc := digestLine.FindStringIndex(out)
	if loc == nil {
		t.Fatalf("the output does not end with the digest:\n%q", out)
	}
	frame := lastFrame(out[:loc[0]])
	if strings.Contains(out[loc[0]:], "\x1b") {
		t.Errorf("a redraw comes after the digest:\n%q", out)
	}
	for _, pct := range regexp.MustCompile(`([0-9]+) %`).FindAllStringSubmatch(frame, -1) {
		if pct[1] != "100" {
			t.Errorf("a bar stays at %s%% in the last frame:\n%q", pct[1], frame)
		}
	}
	if strings.Contains(frame, "upload") {
		t.Errorf("the unnecessary upload's bar stays in the last frame:\n%q", frame)
	}
}

// TestProgressBarsOnATerminalOfWidthZero: a terminal that reports no width
// still gets bars, drawn in 80 columns.
func TestProgressBarsOnATerminalOfWidthZero(t *testing.T) {
	reg := registrytest.Start(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello, bars\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := runOnTerminal(t, pty.Winsize{Rows: 0, Cols: 0}, "push", dir, reg.Host()+"/pty/narrow:v1")
	if !regexp.MustCompile(`read .*100 %`).MatchString(out) {
		t.Errorf("no bar was drawn:\n%q", out)
	}
	for _, line := range strings.Split(lastFrame(out), "\n") {
		if n := len([]rune(strings.TrimRight(line, "\r"))); n > 80 {
			t.Errorf("a line of %d columns, more than 80: %q", n, line)
		}
	}
}

// TestIsTerminal: a pseudo-terminal is a terminal; /dev/null, a character
// device too, is not (no bars, no escape codes into it).
func TestIsTerminal(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	defer tty.Close()
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	if !isTerminal(tty) {
		t.Error("a pseudo-terminal is not taken for a terminal")
	}
	if isTerminal(devNull) {
		t.Errorf("%s is taken for a terminal", os.DevNull)
	}
}
