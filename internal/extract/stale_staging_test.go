package extract

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/blobber-dev/blobber/internal/testtree"
)

// stagingEntries lists the staging directories and lock files in dir.
func stagingEntries(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	testtree.Must(t, err)
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), stagingPrefix) {
			out = append(out, e.Name())
		}
	}
	return out
}

// leftover makes what a killed pull leaves: a staging directory with a
// file in it, and its lock file, which nobody holds.
func leftover(t *testing.T, dir string, withLock bool) string {
	t.Helper()
	name := stagingPrefix + "00112233aabbccdd"
	testtree.Must(t, os.MkdirAll(filepath.Join(dir, name, "sub"), 0o700))
	testtree.Must(t, os.WriteFile(filepath.Join(dir, name, "sub", "half-written"), []byte("x"), 0o600))
	if withLock {
		testtree.Must(t, os.WriteFile(filepath.Join(dir, name+lockSuffix), nil, 0o600))
	}
	return name
}

// A staging directory whose lock nobody holds is a killed pull's: the next
// extraction into the directory removes it (and its lock), and the
// directory, empty again, is staged into.
func TestStaleStagingRemoved(t *testing.T) {
	dir := t.TempDir()
	leftover(t, dir, true)
	d, err := Open(dir, Options{})
	testtree.Must(t, err)
	defer d.Abort()
	if !d.Staged() {
		t.Error("the directory, empty but for the leftover, was not staged into")
	}
	testtree.Must(t, write(d, "f", "x", 0o644, time.Time{}))
	testtree.Must(t, d.Commit())
	if got := stagingEntries(t, dir); len(got) != 0 {
		t.Fatalf("left after the pull: %v", got)
	}
}

// Without a lock file (a blobber that made none), only an old staging
// directory counts as a leftover; a lock file alone is removed.
func TestStaleStagingWithoutLock(t *testing.T) {
	dir := t.TempDir()
	name := leftover(t, dir, false)
	d, err := Open(dir, Options{})
	testtree.Must(t, err)
	d.Abort()
	if got := stagingEntries(t, dir); len(got) != 1 {
		t.Fatalf("a recent staging directory without a lock was not left alone: %v", got)
	}
	old := time.Now().Add(-2 * staleUnlocked)
	testtree.Must(t, os.Chtimes(filepath.Join(dir, name), old, old))
	testtree.Must(t, os.WriteFile(filepath.Join(dir, stagingPrefix+"ffeeddccbbaa9988"+lockSuffix), nil, 0o600))
	d, err = Open(dir, Options{})
	testtree.Must(t, err)
	d.Abort()
	if got := stagingEntries(t, dir); len(got) != 0 {
		t.Fatalf("left: %v", got)
	}
}

// The staging directory of an extraction still running, in another
// process, is left alone; once that process is killed, the next
// extraction removes it.
func TestLiveStagingKeptUntilKilled(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestStagingHelperProcess$")
	cmd.Env = append(os.Environ(), "BLOBBER_STAGING_HELPER="+dir)
	out, err := cmd.StdoutPipe()
	testtree.Must(t, err)
	testtree.Must(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "staging" {
		t.Fatalf("helper: %q, %v", line, err)
	}
	live := stagingEntries(t, dir)
	if len(live) != 2 {
		t.Fatalf("the helper's staging directory and lock: %v", live)
	}

	d, err := Open(dir, Options{})
	testtree.Must(t, err)
	if d.Staged() {
		t.Error("staged into a directory that holds another pull's staging directory")
	}
	d.Abort()
	if got := stagingEntries(t, dir); len(got) != 2 {
		t.Fatalf("a live pull's staging directory was touched: %v", got)
	}

	testtree.Must(t, cmd.Process.Kill())
	cmd.Wait()
	d, err = Open(dir, Options{})
	testtree.Must(t, err)
	defer d.Abort()
	if got := stagingEntries(t, dir); len(got) != 2 || !d.Staged() {
		// Its own staging directory and lock, nothing of the killed one's.
		t.Fatalf("after the helper was killed: %v (staged %v)", got, d.Staged())
	}
	for _, n := range live {
		if _, err := os.Lstat(filepath.Join(dir, n)); err == nil {
			t.Fatalf("the killed pull's %s is still there", n)
		}
	}
}

// TestStagingHelperProcess is not a test: it is the extraction that
// TestLiveStagingKeptUntilKilled runs in another process and kills.
func TestStagingHelperProcess(t *testing.T) {
	dir := os.Getenv("BLOBBER_STAGING_HELPER")
	if dir == "" {
		t.Skip("only run by TestLiveStagingKeptUntilKilled")
	}
	d, err := Open(dir, Options{})
	testtree.Must(t, err)
	testtree.Must(t, write(d, "half", "x", 0o644, time.Time{}))
	os.Stdout.WriteString("staging\n")
	time.Sleep(time.Minute)
	d.Abort()
}
