package extract

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blobber-dev/blobber/internal/testtree"
)

var errAny = errors.New("any error")

func TestCleanName(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"a", "a", true},
		{"./a/b/", "a/b", true},
		{"a//b", "a/b", true},
		{"a/./b", "a/b", true},
		{".", ".", true},
		{"./", ".", true},
		{`a\b`, `a\b`, true},
		{`..\x`, `..\x`, true}, // a backslash is a literal byte on Linux
		{"...", "...", true},
		{"..a/b..", "..a/b..", true},
		{"", "", false},
		{"/abs", "", false},
		{"//x", "", false},
		{"..", "", false},
		{"../x", "", false},
		{"a/..", "", false},
		{"a/../b", "", false},
		{"a/../../b", "", false},
		{"./../x", "", false},
		{"a\x00b", "", false},
	}
	for _, tt := range tests {
		got, err := CleanName(tt.in)
		if tt.ok {
			if err != nil || got != tt.want {
				t.Errorf("CleanName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			continue
		}
		if !errors.Is(err, ErrPathTraversal) {
			t.Errorf("CleanName(%q) = %q, %v; want ErrPathTraversal", tt.in, got, err)
		} else if !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.in)) {
			t.Errorf("CleanName(%q): error %q does not quote the name", tt.in, err)
		}
	}
}

func FuzzCleanName(f *testing.F) {
	f.Fuzz(func(t *testing.T, name string) {
		got, err := CleanName(name)
		if err != nil {
			if !errors.Is(err, ErrPathTraversal) {
				t.Fatalf("CleanName(%q): error %v does not wrap ErrPathTraversal", name, err)
			}
			return
		}
		if path.Clean(got) != got || got == ".." || path.IsAbs(got) || strings.IndexByte(got, 0) >= 0 {
			t.Fatalf("CleanName(%q) = %q: not a clean relative path", name, got)
		}
		for c := range strings.SplitSeq(got, "/") {
			if c == ".." {
				t.Fatalf("CleanName(%q) = %q: has a .. component", name, got)
			}
		}
	})
}

func TestRoundTrip(t *testing.T) {
	withUmask(t, 0o002) // the artifact's modes, group write included, come through
	d, dir := open(t, Options{KeepTimes: true})
	t.Cleanup(func() { _ = os.Chmod(filepath.Join(dir, "ro"), 0o755) }) // so t.TempDir can clean up
	t1 := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	t2 := time.Date(2002, 2, 3, 4, 5, 6, 0, time.UTC)
	t3 := time.Date(2003, 2, 3, 4, 5, 6, 0, time.UTC)
	steps := []func() error{
		func() error { return d.Mkdir("./dir/", 0o750, t1) },
		func() error { return d.Mkdir(".", 0o700, t1) },
		func() error { return d.Mkdir("ro", 0o555, t2) },
		func() error { return write(d, "ro/f", "read-only dir content", 0o444, t3) },
		func() error { return write(d, "dir/exec", "#!/bin/sh\n", 0o755, t2) },
		func() error { return write(d, "dir/sub/deep.txt", "deep", 0o664, t3) },
		func() error { return write(d, "empty", "", 0o600, t1) },
		func() error { return d.Symlink("dir/link", "exec", t3) },
		func() error { return d.Symlink("rootlink", "dir/sub", t1) },
		func() error { return d.Link("hard", "./dir/exec") },
		func() error { return d.Link("dir/sub/hard2", "hard") },
		func() error { return d.Mkdir("dir", 0o755, t2) }, // repeated entry: last one wins
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	if err := d.Commit(); err != nil {
		t.Fatal(err)
	}
	files := map[string]struct {
		content string
		mode    fs.FileMode
		mtime   time.Time
	}{
		"ro/f":             {"read-only dir content", 0o444, t3},
		"dir/exec":         {"#!/bin/sh\n", 0o755, t2},
		"dir/sub/deep.txt": {"deep", 0o664, t3},
		"empty":            {"", 0o600, t1},
		"hard":             {"#!/bin/sh\n", 0o755, t2},
		"dir/sub/hard2":    {"#!/bin/sh\n", 0o755, t2},
	}
	for name, want := range files {
		p := filepath.Join(dir, name)
		b, err := os.ReadFile(p)
		fi, serr := os.Lstat(p)
		if err != nil || serr != nil {
			t.Errorf("%s: %v %v", name, err, serr)
			continue
		}
		if string(b) != want.content || fi.Mode() != want.mode || !fi.ModTime().Equal(want.mtime) {
			t.Errorf("%s: got %q %v %v, want %q %v %v", name, b, fi.Mode(), fi.ModTime(), want.content, want.mode, want.mtime)
		}
	}
	dirs := map[string]struct {
		mode  fs.FileMode
		mtime time.Time // zero: not checked
	}{
		"dir":     {0o755, t2},
		"ro":      {0o555, t2},
		"dir/sub": {0o755, time.Time{}},
	}
	for name, want := range dirs {
		fi, err := os.Lstat(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if fi.Mode() != fs.ModeDir|want.mode || (!want.mtime.IsZero() && !fi.ModTime().Equal(want.mtime)) {
			t.Errorf("%s: got %v %v, want %v %v", name, fi.Mode(), fi.ModTime(), want.mode, want.mtime)
		}
	}
	links := map[string]struct {
		target string
		mtime  time.Time
	}{"dir/link": {"exec", t3}, "rootlink": {"dir/sub", t1}}
	for name, want := range links {
		p := filepath.Join(dir, name)
		target, err := os.Readlink(p)
		fi, _ := os.Lstat(p)
		if err != nil || target != want.target {
			t.Errorf("%s -> %q, %v; want %q", name, target, err, want.target)
		}
		if isLinux && fi != nil && !fi.ModTime().Equal(want.mtime) {
			t.Errorf("%s: symlink mtime %v, want %v", name, fi.ModTime(), want.mtime)
		}
	}
	a, _ := os.Stat(filepath.Join(dir, "dir/exec"))
	b, _ := os.Stat(filepath.Join(dir, "hard"))
	c, _ := os.Stat(filepath.Join(dir, "dir/sub/hard2"))
	if !os.SameFile(a, b) || !os.SameFile(a, c) {
		t.Error("hard links do not share the inode")
	}
	noTemps(t, dir)
	// A finished extraction refuses further work and ignores Abort.
	if err := d.Mkdir("late", 0o755, t1); !errors.Is(err, errFinished) {
		t.Errorf("Mkdir after Commit: %v", err)
	}
	if err := d.Abort(); err != nil {
		t.Errorf("Abort after Commit: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "dir/exec")); err != nil {
		t.Errorf("Abort after Commit removed files: %v", err)
	}
}

func TestWithoutKeepTimes(t *testing.T) {
	d, dir := open(t, Options{})
	old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := d.Mkdir("d", 0o755, old); err != nil {
		t.Fatal(err)
	}
	if err := write(d, "d/f", "x", 0o644, old); err != nil {
		t.Fatal(err)
	}
	if err := d.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"d", "d/f"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.ModTime().Equal(old) {
			t.Errorf("%s: time was applied without KeepTimes (%v)", name, err)
		}
	}
}

func TestModesSanitised(t *testing.T) {
	withUmask(t, 0o002) // the modes below are the artifact's, not the umask's
	tests := []struct {
		in, want fs.FileMode
	}{
		{fs.ModeSetuid | 0o755, 0o755},
		{fs.FileMode(0o4755), 0o755}, // raw tar bits
		{fs.ModeSetgid | fs.ModeSticky | 0o777, 0o775},
		{fs.FileMode(0o7777), 0o775},
		{0o666, 0o664},
		{0o664, 0o664}, // group write is kept
		{0, 0},
	}
	d, dir := open(t, Options{})
	for i, tt := range tests {
		if err := write(d, fmt.Sprintf("f%d", i), "x", tt.in, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if err := d.Mkdir(fmt.Sprintf("d%d", i), tt.in, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Commit(); err != nil {
		t.Fatal(err)
	}
	for i, tt := range tests {
		f, _ := os.Lstat(filepath.Join(dir, fmt.Sprintf("f%d", i)))
		dd, _ := os.Lstat(filepath.Join(dir, fmt.Sprintf("d%d", i)))
		if f == nil || f.Mode() != tt.want {
			t.Errorf("file mode %v -> %v, want %v", tt.in, f.Mode(), tt.want)
		}
		if dd == nil || dd.Mode() != fs.ModeDir|tt.want {
			t.Errorf("dir mode %v -> %v, want %v", tt.in, dd.Mode(), tt.want)
		}
	}
	for i := range tests {
		_ = os.Chmod(filepath.Join(dir, fmt.Sprintf("d%d", i)), 0o700) // let t.TempDir clean up
	}
}

// op is one artifact entry applied to a Dir, for the table-driven tests.
type op struct {
	kind         string // "dir", "file", "symlink", "link"
	name, target string
	want         error // nil, errAny, or an error errors.Is must match
}

func (o op) apply(d *Dir) error {
	switch o.kind {
	case "dir":
		return d.Mkdir(o.name, 0o755, time.Time{})
	case "file":
		return write(d, o.name, "content of "+o.name, 0o644, time.Time{})
	case "symlink":
		return d.Symlink(o.name, o.target, time.Time{})
	case "link":
		return d.Link(o.name, o.target)
	}
	panic(o.kind)
}

func TestSymlinkTargets(t *testing.T) {
	tests := []struct {
		name      string
		pre       func(t *testing.T, dir string) // pre-existing content
		ops       []op
		commitErr error
	}{
		{name: "dotdot", ops: []op{{"symlink", "l", "../x", ErrPathTraversal}}},
		{name: "absolute", ops: []op{{"symlink", "l", "/etc", ErrPathTraversal}}},
		{name: "nul", ops: []op{{"symlink", "l", "a\x00b", ErrPathTraversal}}},
		{name: "empty", ops: []op{{"symlink", "l", "", errAny}}},
		{name: "nested dotdot", ops: []op{{"dir", "a", "", nil}, {"symlink", "a/l", "../../x", ErrPathTraversal}}},
		{name: "implicit parent dotdot", ops: []op{{"symlink", "a/b/l", "../../../x", ErrPathTraversal}}},
		{name: "chain through dot", ops: []op{
			{"symlink", "x", ".", nil},
			{"symlink", "y", "x/..", ErrPathTraversal},
		}},
		{name: "chain through dir symlink", ops: []op{
			{"dir", "a/b", "", nil},
			{"symlink", "a/up", "..", nil},
			{"symlink", "l", "a/up/../..", ErrPathTraversal},
		}},
		{name: "late binding", ops: []op{
			{"symlink", "l", "a/../b", nil},
			{"symlink", "a", ".", nil},
		}, commitErr: ErrPathTraversal},
		{name: "late binding through replaced file", ops: []op{
			{"file", "f", "", nil},
			{"symlink", "l", "f/../../x", ErrPathTraversal},
		}},
		{name: "loop", ops: []op{
			{"symlink", "a", "b", nil},
			{"symlink", "b", "a", nil},
		}, commitErr: ErrPathTraversal},
		{name: "self loop", ops: []op{
			{"symlink", "a", "a", nil},
		}, commitErr: ErrPathTraversal},
		{name: "loop against existing", ops: []op{
			{"symlink", "a", "b", nil},
			{"symlink", "b", "a/x", nil},
			{"symlink", "c", "a", ErrPathTraversal},
		}},
		{name: "deferred loop", ops: []op{
			{"symlink", "a", "b/x", nil},
			{"symlink", "b", "a/..", nil},
		}, commitErr: ErrPathTraversal},
		{name: "through symlinked parent", ops: []op{
			{"symlink", "x", ".", nil},
			{"symlink", "x/l", "y", ErrPathTraversal},
		}},
		{name: "pre-existing absolute symlink", pre: func(t *testing.T, dir string) {
			testtree.Must(t, os.Symlink(t.TempDir(), filepath.Join(dir, "abs")))
		}, ops: []op{{"symlink", "l", "abs/x", ErrPathTraversal}}},
		{name: "pre-existing escaping relative symlink", pre: func(t *testing.T, dir string) {
			testtree.Must(t, os.Symlink("..", filepath.Join(dir, "up")))
		}, ops: []op{{"symlink", "l", "up", ErrPathTraversal}}},

		{name: "sibling via parent", ops: []op{{"dir", "a", "", nil}, {"symlink", "a/l", "../b", nil}}},
		{name: "dangling inside", ops: []op{{"symlink", "l", "a/b/c", nil}}},
		{name: "dot", ops: []op{{"symlink", "l", ".", nil}}},
		{name: "redundant components", ops: []op{{"symlink", "l", "./a/./b//c/", nil}}},
		{name: "dir and back", ops: []op{{"dir", "a", "", nil}, {"symlink", "l", "a/..", nil}}},
		{name: "chain staying inside", ops: []op{
			{"dir", "a/b", "", nil},
			{"symlink", "a/up", "..", nil},
			{"symlink", "l", "a/up/a/b/../..", nil},
		}},
		{name: "dangling then created", ops: []op{
			{"symlink", "l", "a/../b", nil},
			{"dir", "a", "", nil},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "dst")
			testtree.Must(t, os.Mkdir(dir, 0o755))
			if tt.pre != nil {
				tt.pre(t, dir)
			}
			before := testtree.Snapshot(t, dir, testtree.FileTimes())
			d, err := Open(dir, Options{})
			testtree.Must(t, err)
			failed := false
			for i, o := range tt.ops {
				err := o.apply(d)
				if o.want == errAny {
					failed = err != nil
					if !failed {
						t.Errorf("op %d %v: succeeded, want an error", i, o)
					}
				} else {
					checkErr(t, fmt.Sprintf("op %d %v", i, o), err, o.want)
					failed = o.want != nil
				}
				if failed {
					break
				}
			}
			if failed {
				testtree.Must(t, d.Abort())
			} else {
				err := d.Commit()
				checkErr(t, "Commit", err, tt.commitErr)
				if err == nil {
					for _, o := range tt.ops {
						if o.kind != "symlink" {
							continue
						}
						if got, err := os.Readlink(filepath.Join(dir, o.name)); err != nil || got != o.target {
							t.Errorf("%s -> %q, %v; want %q", o.name, got, err, o.target)
						}
					}
					return
				}
				if err := d.Abort(); err != nil {
					t.Errorf("Abort after failed Commit: %v", err)
				}
			}
			testtree.Unchanged(t, "the directory", before, testtree.Snapshot(t, dir, testtree.FileTimes()))
		})
	}
}

// TestPreexistingSymlinkOut covers DIR/out -> elsewhere: nothing the
// artifact does may write through it.
func TestPreexistingSymlinkOut(t *testing.T) {
	for _, overwrite := range []bool{false, true} {
		t.Run(fmt.Sprintf("overwrite=%v", overwrite), func(t *testing.T) {
			other := t.TempDir()
			dir := t.TempDir()
			testtree.Must(t, os.Symlink(other, filepath.Join(dir, "out")))
			testtree.Must(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))
			testtree.Must(t, os.Symlink("sub", filepath.Join(dir, "in")))
			before := testtree.Snapshot(t, dir, testtree.FileTimes())
			d, err := Open(dir, Options{Overwrite: overwrite})
			testtree.Must(t, err)
			_, err = d.CreateFile("out/f", 0o644, 1, time.Time{})
			checkErr(t, "CreateFile out/f", err, ErrPathTraversal)
			checkErr(t, "Mkdir out/x", d.Mkdir("out/x", 0o755, time.Time{}), ErrPathTraversal)
			checkErr(t, "Mkdir out", d.Mkdir("out", 0o755, time.Time{}), ErrExists)
			checkErr(t, "Symlink out/l", d.Symlink("out/l", "x", time.Time{}), ErrPathTraversal)
			checkErr(t, "Check out/f", d.Check("out/f", false), ErrPathTraversal)
			checkErr(t, "Check out/d", d.Check("out/d", true), ErrPathTraversal)
			checkErr(t, "write in/f", write(d, "in/f", "x", 0o644, time.Time{}), ErrPathTraversal)
			checkErr(t, "write a/out/f", write(d, "a/b", "x", 0o644, time.Time{}), nil)
			checkErr(t, "Link out/h", d.Link("out/h", "a/b"), ErrPathTraversal)
			if overwrite {
				// Replacing the symlink itself is allowed, and must not
				// touch what it points to.
				checkErr(t, "write out", write(d, "out", "replaced", 0o644, time.Time{}), nil)
				if fi, err := os.Lstat(filepath.Join(dir, "out")); err != nil || !fi.Mode().IsRegular() {
					t.Errorf("out was not replaced: %v %v", fi, err)
				}
			} else {
				checkErr(t, "write out", write(d, "out", "replaced", 0o644, time.Time{}), ErrExists)
			}
			if entries, _ := os.ReadDir(other); len(entries) != 0 {
				t.Errorf("wrote through the symlink: %v", entries)
			}
			testtree.Must(t, d.Abort())
			testtree.Unchanged(t, "the directory", before, testtree.Snapshot(t, dir, testtree.FileTimes()))
			if entries, _ := os.ReadDir(other); len(entries) != 0 {
				t.Errorf("wrote through the symlink: %v", entries)
			}
		})
	}
}

func TestOverwrite(t *testing.T) {
	pre := func(t *testing.T, dir string) {
		testtree.Must(t, os.WriteFile(filepath.Join(dir, "f"), []byte("old"), 0o644))
		testtree.Must(t, os.Mkdir(filepath.Join(dir, "d"), 0o755))
		testtree.Must(t, os.Symlink("f", filepath.Join(dir, "s")))
	}
	tests := []struct {
		name      string
		overwrite bool
		ops       []op
		want      map[string]string // path -> content or "-> target"
	}{
		{"file kept", false, []op{{"file", "f", "", ErrExists}}, map[string]string{"f": "old"}},
		{"file replaced", true, []op{{"file", "f", "", nil}}, map[string]string{"f": "content of f"}},
		{"dir never replaced", true, []op{{"file", "d", "", ErrExists}}, nil},
		{"dir by symlink", true, []op{{"symlink", "d", "f", ErrExists}}, nil},
		{"file where dir wanted", true, []op{{"dir", "f", "", ErrExists}}, map[string]string{"f": "old"}},
		{"symlink where dir wanted", true, []op{{"dir", "s", "", ErrExists}}, map[string]string{"s": "-> f"}},
		{"file under file", true, []op{{"file", "f/x", "", ErrExists}}, nil},
		{"symlink kept", false, []op{{"file", "s", "", ErrExists}}, map[string]string{"s": "-> f", "f": "old"}},
		{"symlink replaced", true, []op{{"file", "s", "", nil}}, map[string]string{"s": "content of s", "f": "old"}},
		{"file by symlink", true, []op{{"symlink", "f", "d", nil}}, map[string]string{"f": "-> d"}},
		{"file by hardlink", true, []op{{"file", "g", "", nil}, {"link", "f", "g", nil}}, map[string]string{"f": "content of g"}},
		{"duplicate entry", false, []op{{"file", "g", "", nil}, {"file", "g", "", ErrExists}}, nil},
		{"duplicate entry replaced", true, []op{{"file", "g", "", nil}, {"symlink", "g", "f", nil}}, map[string]string{"g": "-> f"}},
		{"duplicate hardlink", true, []op{{"file", "g", "", nil}, {"link", "h", "g", nil}, {"link", "h", "g", nil}}, map[string]string{"h": "content of g"}},
	}
	for _, tt := range tests {
		for _, noLinks := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/nolinks=%v", tt.name, noLinks), func(t *testing.T) {
				testOverwrite(t, pre, tt.overwrite, noLinks, tt.ops, tt.want)
			})
		}
	}
}

func testOverwrite(t *testing.T, pre func(*testing.T, string), overwrite, noLinks bool, ops []op, want map[string]string) {
	dir := t.TempDir()
	pre(t, dir)
	before := testtree.Snapshot(t, dir)
	d, err := Open(dir, Options{Overwrite: overwrite})
	testtree.Must(t, err)
	d.noHardLinks = noLinks
	for i, o := range ops {
		err := o.apply(d)
		checkErr(t, fmt.Sprintf("op %d %v", i, o), err, o.want)
		if o.want == ErrExists && !errors.Is(err, fs.ErrExist) {
			t.Errorf("op %d: %v does not wrap fs.ErrExist", i, err)
		}
	}
	testtree.Must(t, d.Commit())
	noTemps(t, dir)
	for name, want := range want {
		p := filepath.Join(dir, name)
		got := ""
		if target, err := os.Readlink(p); err == nil {
			got = "-> " + target
		} else {
			b, _ := os.ReadFile(p)
			got = string(b)
		}
		if got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	// The same artifact aborted must leave everything as it was.
	dir2 := t.TempDir()
	pre(t, dir2)
	d2, err := Open(dir2, Options{Overwrite: overwrite})
	testtree.Must(t, err)
	d2.noHardLinks = noLinks
	for _, o := range ops {
		_ = o.apply(d2)
	}
	testtree.Must(t, d2.Abort())
	// Only the file mtimes differ between the two temp dirs.
	testtree.Unchanged(t, "after abort", before, testtree.Snapshot(t, dir2))
	if b, _ := os.ReadFile(filepath.Join(dir2, "f")); string(b) != "old" {
		t.Errorf("f after abort = %q", b)
	}
}

// Two files created under one name and committed one after the other: the
// first commit wins, the second is refused with ErrExists.
func TestSecondCommitOfOneNameIsRefused(t *testing.T) {
	for _, noLinks := range []bool{false, true} {
		t.Run(fmt.Sprintf("nolinks=%v", noLinks), func(t *testing.T) { testSecondCommitRefused(t, noLinks) })
	}
}

func testSecondCommitRefused(t *testing.T, noLinks bool) {
	d, dir := open(t, Options{perFile: true})
	d.noHardLinks = noLinks
	f1, err := d.CreateFile("x", 0o644, 1, time.Time{})
	testtree.Must(t, err)
	f2, err := d.CreateFile("x", 0o644, 1, time.Time{})
	testtree.Must(t, err)
	_, _ = f1.WriteAt([]byte("1"), 0)
	_, _ = f2.WriteAt([]byte("2"), 0)
	testtree.Must(t, f1.Commit())
	checkErr(t, "second commit", f2.Commit(), ErrExists)
	testtree.Must(t, d.Commit())
	if b, _ := os.ReadFile(filepath.Join(dir, "x")); string(b) != "1" {
		t.Errorf("x = %q, want the first writer's content", b)
	}
	noTemps(t, dir)
}

func TestAbortCleanliness(t *testing.T) {
	old := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	pre := func(t *testing.T, dir string) {
		testtree.Must(t, os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("keep"), 0o640))
		testtree.Must(t, os.Mkdir(filepath.Join(dir, "sub"), 0o750))
		testtree.Must(t, os.WriteFile(filepath.Join(dir, "sub/a.txt"), []byte("a"), 0o600))
		testtree.Must(t, os.WriteFile(filepath.Join(dir, "sub/b.txt"), []byte("b"), 0o644))
		testtree.Must(t, os.Symlink("a.txt", filepath.Join(dir, "sub/ln")))
		for _, n := range []string{"keep.txt", "sub/a.txt", "sub/b.txt"} {
			testtree.Must(t, os.Chtimes(filepath.Join(dir, n), old, old))
		}
	}
	populate := func(t *testing.T, d *Dir) {
		t.Helper()
		steps := []error{
			d.Mkdir("sub", 0o700, old), // pre-existing: mode must survive
			d.Mkdir("new/deep/er", 0o500, old),
			write(d, "new/deep/er/f", "f", 0o644, old),
			write(d, "sub/c.txt", "c", 0o644, old),
			write(d, "sub/a.txt", "replaced", 0o777, old),
			write(d, "sub/ln", "replaced link", 0o644, old),
			d.Symlink("new/l", "../sub/c.txt", old),
			d.Link("new/h", "sub/c.txt"),
			d.Link("sub/b.txt", "sub/c.txt"),
		}
		for i, err := range steps {
			if err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
		}
		// Left open: Abort must remove its temporary too.
		f, err := d.CreateFile("new/pending", 0o644, 10, old)
		testtree.Must(t, err)
		_, _ = f.WriteAt([]byte("12345"), 0)
	}
	tests := []struct {
		name   string
		finish func(d *Dir) error
	}{
		{"abort", (*Dir).Abort},
		{"abort twice", func(d *Dir) error { return errors.Join(d.Abort(), d.Abort()) }},
		{"commit with open file", func(d *Dir) error {
			if d.Commit() == nil {
				return errors.New("Commit succeeded with an open file")
			}
			return d.Abort()
		}},
		{"commit with escaping symlink", func(d *Dir) error {
			if err := d.Symlink("late", "new/x/../..", old); err != nil {
				return err
			}
			if err := d.Symlink("new/x", ".", old); err != nil {
				return err
			}
			if err := d.Commit(); !errors.Is(err, ErrPathTraversal) {
				return fmt.Errorf("Commit: %v, want ErrPathTraversal", err)
			}
			return d.Abort()
		}},
	}
	for _, tt := range tests {
		for _, noLinks := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/nolinks=%v", tt.name, noLinks), func(t *testing.T) {
				dir := t.TempDir()
				pre(t, dir)
				before := testtree.Snapshot(t, dir, testtree.FileTimes())
				d, err := Open(dir, Options{Overwrite: true, KeepTimes: true})
				testtree.Must(t, err)
				d.noHardLinks = noLinks
				populate(t, d)
				if err := tt.finish(d); err != nil {
					t.Fatal(err)
				}
				testtree.Unchanged(t, "the directory", before, testtree.Snapshot(t, dir, testtree.FileTimes()))
			})
		}
	}
}

func TestAbortRemovesCreatedTarget(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "a", "b", "c")
	d, err := Open(dir, Options{})
	testtree.Must(t, err)
	testtree.Must(t, write(d, "x/y", "z", 0o644, time.Time{}))
	testtree.Must(t, d.Abort())
	mustNotExist(t, filepath.Join(parent, "a"))
}

func TestConcurrent(t *testing.T) {
	d, dir := open(t, Options{KeepTimes: true})
	const workers, perWorker = 8, 40
	content := func(name string, size int) []byte {
		return bytes.Repeat([]byte(name+"|"), size/(len(name)+1)+1)[:size]
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker+workers)
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for i := range perWorker {
				// Shared parents make the workers race on Mkdir too.
				name := fmt.Sprintf("shared/s%d/w%d-%d", i%3, w, i)
				size := r.IntN(20000)
				if err := d.Mkdir(fmt.Sprintf("shared/s%d", i%3), 0o755, time.Time{}); err != nil {
					errs <- err
					return
				}
				if err := write(d, name, string(content(name, size)), 0o644, time.Time{}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	// One big file written by all workers at once in disjoint chunks.
	const chunk, size = 4096, 8*4096*3 + 123
	big, err := d.CreateFile("big", 0o644, size, time.Time{})
	testtree.Must(t, err)
	want := content("big", size)
	var bwg sync.WaitGroup
	for w := range workers {
		bwg.Go(func() {
			for off := w * chunk; off < size; off += workers * chunk {
				end := min(off+chunk, size)
				if _, err := big.WriteAt(want[off:end], int64(off)); err != nil {
					errs <- err
				}
			}
		})
	}
	bwg.Wait()
	testtree.Must(t, big.Commit())
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	testtree.Must(t, d.Commit())
	got, err := os.ReadFile(filepath.Join(dir, "big"))
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("big: content differs (%v)", err)
	}
	n := 0
	for w := range workers {
		for i := range perWorker {
			name := fmt.Sprintf("shared/s%d/w%d-%d", i%3, w, i)
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil || !bytes.Equal(b, content(name, len(b))) {
				t.Errorf("%s: %v", name, err)
			}
			n++
		}
	}
	if n != workers*perWorker {
		t.Errorf("checked %d files", n)
	}
	noTemps(t, dir)
}

// Files in more directories than dirHandles keeps open, from several
// goroutines: handles are closed while others may be using them.
func TestStagedManyDirectories(t *testing.T) {
	d, dir := open(t, Options{})
	if !d.Staged() {
		t.Fatal("an extraction into a new directory is not staged")
	}
	const workers, dirs, perDir = 4, 3 * maxDirHandles, 4
	var wg sync.WaitGroup
	errs := make(chan error, workers*dirs*perDir)
	for w := range workers {
		wg.Go(func() {
			for i := range dirs * perDir {
				// Each worker walks the directories in its own order.
				name := fmt.Sprintf("d%03d/sub/f%d-%d", (i*(w+1)+w)%dirs, w, i)
				if err := d.WriteFile(name, 0o640, []byte(name), time.Time{}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	testtree.Must(t, d.Commit())
	n := 0
	for w := range workers {
		for i := range dirs * perDir {
			name := fmt.Sprintf("d%03d/sub/f%d-%d", (i*(w+1)+w)%dirs, w, i)
			fi, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(filepath.Join(dir, name))
			if string(b) != name || fi.Mode().Perm() != 0o640 {
				t.Errorf("%s: %q, mode %v", name, b, fi.Mode())
			}
			n++
		}
	}
	if n != workers*dirs*perDir {
		t.Errorf("checked %d files", n)
	}
	noTemps(t, dir)
}

func TestWriteBounds(t *testing.T) {
	d, _ := open(t, Options{})
	f, err := d.CreateFile("f", 0o644, 4, time.Time{})
	testtree.Must(t, err)
	for _, w := range []struct {
		off int64
		n   int
		ok  bool
	}{{0, 4, true}, {0, 5, false}, {3, 2, false}, {-1, 1, false}, {4, 0, true}, {5, 0, false}, {1 << 62, 1, false}} {
		_, err := f.WriteAt(make([]byte, w.n), w.off)
		if (err == nil) != w.ok {
			t.Errorf("WriteAt(%d bytes, %d): %v", w.n, w.off, err)
		}
	}
	testtree.Must(t, f.Commit())
	if _, err := f.WriteAt([]byte("x"), 0); err == nil {
		t.Error("WriteAt after Commit succeeded")
	}
	if err := f.Discard(); err != nil {
		t.Errorf("Discard after Commit: %v", err)
	}
	if _, err := d.CreateFile("g", 0o644, -1, time.Time{}); err == nil {
		t.Error("negative size accepted")
	}
}

func TestDiscard(t *testing.T) {
	d, dir := open(t, Options{})
	f, err := d.CreateFile("a/f", 0o644, 3, time.Time{})
	testtree.Must(t, err)
	testtree.Must(t, f.Discard())
	testtree.Must(t, f.Discard())
	if f.Commit() == nil {
		t.Error("Commit after Discard succeeded")
	}
	testtree.Must(t, d.Commit())
	mustNotExist(t, filepath.Join(dir, "a/f"))
	noTemps(t, dir)
}

func TestRejectedNames(t *testing.T) {
	d, dir := open(t, Options{Overwrite: true})
	testtree.Must(t, write(d, "real", "x", 0o644, time.Time{}))
	testtree.Must(t, d.Symlink("sym", "real", time.Time{}))
	testtree.Must(t, d.Mkdir("dir", 0o755, time.Time{}))
	bad := []string{"", "/abs", "../x", "a/../../b", "a/..", "a\x00b"}
	for _, name := range bad {
		_, err := d.CreateFile(name, 0o644, 0, time.Time{})
		checkErr(t, fmt.Sprintf("CreateFile(%q)", name), err, ErrPathTraversal)
		checkErr(t, fmt.Sprintf("Mkdir(%q)", name), d.Mkdir(name, 0o755, time.Time{}), ErrPathTraversal)
		checkErr(t, fmt.Sprintf("Symlink(%q)", name), d.Symlink(name, "x", time.Time{}), ErrPathTraversal)
		checkErr(t, fmt.Sprintf("Link(%q)", name), d.Link(name, "real"), ErrPathTraversal)
		checkErr(t, fmt.Sprintf("Link to %q", name), d.Link("h", name), ErrPathTraversal)
		checkErr(t, fmt.Sprintf("Check(%q)", name), d.Check(name, false), ErrPathTraversal)
	}
	_, err := d.CreateFile(".", 0o644, 0, time.Time{})
	checkErr(t, "CreateFile(.)", err, ErrExists)
	checkErr(t, "Symlink(.)", d.Symlink("./", "x", time.Time{}), ErrExists)
	// Hard links may only point at regular files this extraction wrote.
	testtree.Must(t, os.WriteFile(filepath.Join(dir, "outsider"), []byte("secret"), 0o600))
	for _, target := range []string{"outsider", "sym", "dir", "missing"} {
		checkErr(t, "Link to "+target, d.Link("h", target), ErrPathTraversal)
	}
	testtree.Must(t, d.Link("h", "./real"))
	testtree.Must(t, d.Commit())
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	testtree.Must(t, os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644))
	testtree.Must(t, os.Mkdir(filepath.Join(dir, "d"), 0o755))
	testtree.Must(t, os.WriteFile(filepath.Join(dir, "d/g"), []byte("x"), 0o644))
	testtree.Must(t, os.Symlink("d", filepath.Join(dir, "s")))
	testtree.Must(t, os.Symlink("/", filepath.Join(dir, "esc")))
	tests := []struct {
		name          string
		isDir         bool
		plain, overwr error
	}{
		{"new", false, nil, nil},
		{"new/x/y", false, nil, nil},
		{"d/new/x", false, nil, nil},
		{".", true, nil, nil},
		{".", false, ErrExists, ErrExists},
		{"f", false, ErrExists, nil},
		{"d/g", false, ErrExists, nil},
		{"s", false, ErrExists, nil},
		{"f", true, ErrExists, ErrExists},
		{"s", true, ErrExists, ErrExists},
		{"d", true, nil, nil},
		{"./d/", true, nil, nil},
		{"d", false, ErrExists, ErrExists},
		{"f/x", false, ErrExists, ErrExists},
		{"s/x", false, ErrPathTraversal, ErrPathTraversal},
		{"s/x", true, ErrPathTraversal, ErrPathTraversal},
		{"esc/etc/passwd", false, ErrPathTraversal, ErrPathTraversal},
		{"../x", false, ErrPathTraversal, ErrPathTraversal},
		{"", true, ErrPathTraversal, ErrPathTraversal},
	}
	before := testtree.Snapshot(t, dir, testtree.FileTimes())
	for _, overwrite := range []bool{false, true} {
		d, err := Open(dir, Options{Overwrite: overwrite})
		testtree.Must(t, err)
		for _, tt := range tests {
			want := tt.plain
			if overwrite {
				want = tt.overwr
			}
			checkErr(t, fmt.Sprintf("Check(%q, %v) overwrite=%v", tt.name, tt.isDir, overwrite), d.Check(tt.name, tt.isDir), want)
		}
		testtree.Must(t, d.Abort())
	}
	testtree.Unchanged(t, "the directory", before, testtree.Snapshot(t, dir, testtree.FileTimes()))
}

func TestErrExistsWrapsFsErrExist(t *testing.T) {
	if !errors.Is(ErrExists, fs.ErrExist) {
		t.Error("ErrExists does not wrap fs.ErrExist")
	}
	if ErrExists.Error() != "file exists" {
		t.Errorf("ErrExists = %q", ErrExists)
	}
}

// TestCommitFailureAfterModes makes Commit fail after it has already made
// directories read-only, which Abort must undo to clean up.
func TestCommitFailureAfterModes(t *testing.T) {
	d, dir := open(t, Options{perFile: true})
	testtree.Must(t, d.Mkdir("a/ro", 0o500, time.Time{}))
	testtree.Must(t, write(d, "a/ro/f", "x", 0o400, time.Time{}))
	testtree.Must(t, d.Mkdir("a", 0o500, time.Time{}))
	testtree.Must(t, d.Mkdir("z", 0o755, time.Time{}))
	// Someone else swaps z for a file behind the extraction's back.
	testtree.Must(t, os.Remove(filepath.Join(dir, "z")))
	testtree.Must(t, os.WriteFile(filepath.Join(dir, "z"), []byte("foreign"), 0o644))
	if err := d.Commit(); err == nil {
		t.Fatal("Commit succeeded with a replaced directory")
	}
	testtree.Must(t, d.Abort())
	mustNotExist(t, filepath.Join(dir, "a"))
	if b, err := os.ReadFile(filepath.Join(dir, "z")); err != nil || string(b) != "foreign" {
		t.Errorf("foreign file: %q, %v", b, err)
	}
}

// While staging, a name twice in the artifact is refused at once.
func TestStagingSameName(t *testing.T) {
	d, dir := open(t, Options{})
	testtree.Must(t, write(d, "x", "1", 0o644, time.Time{}))
	_, err := d.CreateFile("x", 0o644, 1, time.Time{})
	checkErr(t, "second CreateFile", err, ErrExists)
	checkErr(t, "symlink over it", d.Symlink("x", "y", time.Time{}), ErrExists)
	checkErr(t, "link over it", d.Link("x", "x"), ErrExists)
	testtree.Must(t, d.Commit())
	if b, _ := os.ReadFile(filepath.Join(dir, "x")); string(b) != "1" {
		t.Errorf("x = %q, want the first writer's content", b)
	}
	noTemps(t, dir)
}

// An empty target gets the extraction through a hidden staging directory:
// nothing appears under the artifact's names until Commit, and what
// appears in the target meanwhile is never replaced.
func TestStagingCommit(t *testing.T) {
	d, dir := open(t, Options{})
	testtree.Must(t, d.Mkdir("a/ro", 0o500, time.Time{}))
	testtree.Must(t, write(d, "a/ro/f", "x", 0o400, time.Time{}))
	testtree.Must(t, write(d, "top", "t", 0o644, time.Time{}))
	entries, err := os.ReadDir(dir)
	testtree.Must(t, err)
	// The staging directory and its lock file (staging.go).
	if len(entries) != 2 || !strings.HasPrefix(entries[0].Name(), ".") || !strings.HasPrefix(entries[1].Name(), entries[0].Name()) {
		t.Fatalf("before Commit the target holds %v, want one hidden staging directory and its lock", entries)
	}
	testtree.Must(t, d.Commit())
	if b, err := os.ReadFile(filepath.Join(dir, "a/ro/f")); err != nil || string(b) != "x" {
		t.Errorf("a/ro/f: %q, %v", b, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "a/ro")); err != nil || fi.Mode().Perm() != 0o500 {
		t.Errorf("a/ro: %v, %v", fi, err)
	}
	noTemps(t, dir)
	entries, _ = os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("after Commit the target holds %v", entries)
	}

	d, dir = open(t, Options{})
	testtree.Must(t, d.Mkdir("a/ro", 0o500, time.Time{}))
	testtree.Must(t, write(d, "a/ro/f", "x", 0o400, time.Time{}))
	testtree.Must(t, write(d, "z", "mine", 0o644, time.Time{}))
	// Someone else writes z into the target during the extraction.
	testtree.Must(t, os.WriteFile(filepath.Join(dir, "z"), []byte("foreign"), 0o644))
	checkErr(t, "Commit over a foreign file", d.Commit(), ErrExists)
	testtree.Must(t, d.Abort())
	mustNotExist(t, filepath.Join(dir, "a"))
	if b, err := os.ReadFile(filepath.Join(dir, "z")); err != nil || string(b) != "foreign" {
		t.Errorf("foreign file: %q, %v", b, err)
	}
	entries, _ = os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("after Abort the target holds %v, want only the foreign file", entries)
	}
}

func TestLongName(t *testing.T) {
	d, dir := open(t, Options{})
	name := strings.Repeat("n", 250)
	testtree.Must(t, write(d, "d/"+name, "x", 0o644, time.Time{}))
	testtree.Must(t, d.Symlink("d/l"+name[1:], name, time.Time{}))
	testtree.Must(t, d.Commit())
	if b, err := os.ReadFile(filepath.Join(dir, "d", "l"+name[1:])); err != nil || string(b) != "x" {
		t.Errorf("long name: %q, %v", b, err)
	}
}

// A Commit that fails after the staging directory's entries were moved up
// and some modes applied still removes everything it wrote.
func TestStagingCommitFailsAfterMove(t *testing.T) {
	d, dir := open(t, Options{})
	testtree.Must(t, d.Mkdir("top/ro", 0o555, time.Time{}))
	testtree.Must(t, write(d, "a.txt", "a", 0o644, time.Time{}))
	testtree.Must(t, write(d, "top/b.txt", "b", 0o644, time.Time{}))
	testtree.Must(t, d.Link("top/hard", "top/b.txt"))
	testtree.Must(t, d.Mkdir("z", 0o755, time.Time{}))
	d.afterMove = func() {
		// Someone swaps z for a file once it is in the target.
		testtree.Must(t, os.Remove(filepath.Join(dir, "z")))
		testtree.Must(t, os.WriteFile(filepath.Join(dir, "z"), []byte("foreign"), 0o644))
	}
	if err := d.Commit(); err == nil {
		t.Fatal("Commit succeeded with a replaced directory")
	}
	testtree.Must(t, d.Abort())
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "z" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("after a failed Commit the target holds %v, want only the foreign z", names)
	}
}

// While staging, a file still being written is no hard link target.
func TestStagingLinkToUnfinishedFile(t *testing.T) {
	d, dir := open(t, Options{})
	f, err := d.CreateFile("a", 0o644, 10, time.Time{})
	testtree.Must(t, err)
	_, err = f.WriteAt([]byte("half"), 0)
	testtree.Must(t, err)
	checkErr(t, "link to a file being written", d.Link("b", "a"), ErrPathTraversal)
	testtree.Must(t, f.Discard())
	checkErr(t, "link to a discarded file", d.Link("b", "a"), ErrPathTraversal)
	testtree.Must(t, write(d, "c", "done", 0o644, time.Time{}))
	testtree.Must(t, d.Link("d", "c"))
	testtree.Must(t, d.Commit())
	if b, err := os.ReadFile(filepath.Join(dir, "d")); err != nil || string(b) != "done" {
		t.Errorf("d: %q, %v", b, err)
	}
	mustNotExist(t, filepath.Join(dir, "b"))
}
