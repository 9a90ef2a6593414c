package testtree

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// A written tree reads back as written, and every kind of change to it is
// one line of the diff.
func TestSnapshotSeesEveryChange(t *testing.T) {
	dir := t.TempDir()
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	WriteEntries(t, dir, map[string]Entry{
		"ro/":        {Mode: fs.ModeDir | 0o555, ModTime: old},
		"ro/f":       {Mode: 0o600, Content: "f", ModTime: old},
		"ro/link":    {Mode: fs.ModeSymlink, Content: "f"},
		"big":        {Content: strings.Repeat("x", 100)},
		"d/e/nested": {Content: "n"},
	})
	t.Cleanup(func() { _ = os.Chmod(filepath.Join(dir, "ro"), 0o755) })
	plain := Snapshot(t, dir)
	want := map[string]string{
		".":          plain["."],
		"ro":         "dr-xr-xr-x",
		"ro/f":       `-rw------- "f"`,
		"ro/link":    "Lrwxrwxrwx -> f",
		"big":        "-rw-r--r-- 100 bytes sha256:09ecb6ebc8bcefc733f6f2ec44f791abeed6a99edf0cc31519637898aebd52d8",
		"d":          "drwxr-xr-x",
		"d/e":        "drwxr-xr-x",
		"d/e/nested": `-rw-r--r-- "n"`,
	}
	if lines := Diff(want, plain); len(lines) != 0 {
		t.Errorf("snapshot differs from what was written:\n%s", strings.Join(lines, "\n"))
	}
	before := Snapshot(t, dir, FileTimes(), DirTimes())
	if w := "dr-xr-xr-x mtime 2001-02-03T04:05:06Z"; before["ro"] != w || before["."] != plain["."] {
		t.Errorf("with times: ro is %q, want %q; the root is %q, want %q", before["ro"], w, before["."], plain["."])
	}

	Must(t, os.Chmod(filepath.Join(dir, "ro"), 0o755))
	Must(t, os.WriteFile(filepath.Join(dir, "ro/f"), []byte("g"), 0o600))
	Must(t, os.Chtimes(filepath.Join(dir, "ro/f"), old, old))
	Must(t, os.Remove(filepath.Join(dir, "ro/link")))
	Must(t, os.Symlink("elsewhere", filepath.Join(dir, "ro/link")))
	Must(t, os.Chtimes(filepath.Join(dir, "ro"), old, old))
	Must(t, os.Remove(filepath.Join(dir, "d/e/nested")))
	Write(t, dir, map[string]string{"new/": ""})
	Must(t, os.Chtimes(filepath.Join(dir, "big"), old, old))
	lines := Diff(before, Snapshot(t, dir, FileTimes(), DirTimes()))
	for i, prefix := range []string{"big: got", "d/e: got", "d/e/nested: missing", "new: unexpected", "ro: got", "ro/f: got", "ro/link: got"} {
		if i >= len(lines) || !strings.HasPrefix(lines[i], prefix) {
			t.Errorf("diff line %d: want %q…; diff:\n%s", i, prefix, strings.Join(lines, "\n"))
		}
	}
	if len(lines) != 7 {
		t.Errorf("%d diff lines, want 7:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	if lines := Diff(before, Snapshot(t, dir, Skip("ro"))); len(lines) == 0 {
		t.Error("a snapshot without times equals one with them")
	}
}

// A directory compares equal to a file system holding the same tree.
func TestEqualFSAgainstAMapFS(t *testing.T) {
	dir := t.TempDir()
	Write(t, dir, map[string]string{"a/b.txt": "b", "a/link": "-> b.txt", "empty/": ""})
	mapFS := fstest.MapFS{
		"a":       {Mode: fs.ModeDir | 0o755},
		"a/b.txt": {Mode: 0o644, Data: []byte("b")},
		"a/link":  {Mode: fs.ModeSymlink | 0o777, Data: []byte("b.txt")},
		"empty":   {Mode: fs.ModeDir | 0o755},
	}
	EqualFS(t, mapFS, os.DirFS(dir))
	mapFS["a/b.txt"].Data = []byte("c")
	w, g := SnapshotFS(t, mapFS), Snapshot(t, dir)
	delete(w, ".")
	delete(g, ".")
	if lines := Diff(w, g); len(lines) != 1 || !strings.HasPrefix(lines[0], "a/b.txt: got") {
		t.Errorf("diff = %q, want one line for a/b.txt", lines)
	}
}
