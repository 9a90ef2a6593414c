//go:build unix

package extract

import (
	"fmt"
	"testing"
	"time"
)

// A pull of many small files writes each with WriteFile, so what that
// allocates is paid once per file. A staged file costs its File, its
// descriptor's handle and the name openat is given; nothing more, in
// particular no error message's path joined for a write that did not fail.
func TestWriteFileAllocationsPerFile(t *testing.T) {
	d, _ := open(t, Options{})
	if !d.Staged() {
		t.Fatal("a new directory is not staged")
	}
	const runs = 200
	names := make([]string, runs+1) // AllocsPerRun calls once more to warm up
	for i := range names {
		names[i] = fmt.Sprintf("dir/file-%04d", i)
	}
	if err := d.Mkdir("dir", 0o755, time.Time{}); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 4096)
	next := 0
	allocs := testing.AllocsPerRun(runs, func() {
		if err := d.WriteFile(names[next], 0o644, data, time.Time{}); err != nil {
			t.Fatal(err)
		}
		next++
	})
	if allocs > 3 {
		t.Errorf("WriteFile allocates %.1f times per file, want at most 3", allocs)
	}
}

// The error paths that name the user's path join it only for an error.
func TestUserPathAllocatesNothingWithoutAnError(t *testing.T) {
	d, _ := open(t, Options{})
	if allocs := testing.AllocsPerRun(100, func() { _ = d.userPath(nil, "dir/file") }); allocs != 0 {
		t.Errorf("userPath(nil) allocates %.1f times, want 0", allocs)
	}
}
