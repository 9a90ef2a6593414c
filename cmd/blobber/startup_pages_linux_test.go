package main

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// rssFileKB is the resident file-backed memory of the process.
func rssFileKB(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip(err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Skip("no RssFile in /proc/self/status")
	return 0
}

// After start, the executable's pages that initialisation mapped leave
// the resident set (the test binary, which links the whole command, has
// most of its code and constant data mapped by then), and the program goes
// on running from the pages it maps back.
func TestDropStartupPagesShrinksTheResidentSet(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	if len(cleanReadOnlyMappings(exe)) == 0 {
		t.Fatal("no clean read-only mapping of the executable found")
	}
	before := rssFileKB(t)
	dropStartupPages()
	after := rssFileKB(t)
	t.Logf("file-backed resident memory: %d KiB before, %d KiB after", before, after)
	if after > before*3/4 {
		t.Errorf("file-backed resident memory %d KiB after dropping the startup pages, %d KiB before", after, before)
	}
	// The command still runs from the pages mapped back.
	cmd := newRootCmd()
	cmd.SetArgs([]string{"version"})
	cmd.SetOut(&strings.Builder{})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
}
