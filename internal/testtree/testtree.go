// Package testtree writes directory trees for tests and compares trees, on
// disk or behind an fs.FS, failing with one line for every path that
// differs.
package testtree

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Must fails the test at once on a non-nil error.
func Must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Write creates the files under dir (which it creates if need be) from a
// map of slash-separated name to content: a name ending in "/" is a
// directory, content "-> target" makes a symlink to target, anything else
// a regular file of mode 0o644. Parent directories are made with 0o755.
func Write(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	Must(t, os.MkdirAll(dir, 0o755))
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			Must(t, os.MkdirAll(p, 0o755))
			continue
		}
		Must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		if target, ok := strings.CutPrefix(content, "-> "); ok {
			Must(t, os.Symlink(target, p))
			continue
		}
		Must(t, os.WriteFile(p, []byte(content), 0o644))
	}
}

// Entry is one path of a tree written by [WriteEntries].
type Entry struct {
	// Mode holds the permission bits, and fs.ModeDir for a directory or
	// fs.ModeSymlink for a symlink. Zero permission bits mean 0o644 for a
	// file and 0o755 for a directory.
	Mode fs.FileMode
	// Content is a file's content, or a symlink's target.
	Content string
	// ModTime, unless zero, is set on the file or directory once the whole
	// tree is written (so that writing children does not move it).
	ModTime time.Time
}

// WriteEntries creates the entries under dir (which it creates if need
// be), parents before children, and sets modes and times last so that a
// read-only directory can still be filled.
func WriteEntries(t testing.TB, dir string, entries map[string]Entry) {
	t.Helper()
	Must(t, os.MkdirAll(dir, 0o755))
	names := slices.Sorted(maps.Keys(entries))
	for _, name := range names {
		e, p := entries[name], filepath.Join(dir, filepath.FromSlash(name))
		Must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		switch {
		case e.Mode&fs.ModeSymlink != 0:
			Must(t, os.Symlink(e.Content, p))
		case e.Mode.IsDir():
			Must(t, os.MkdirAll(p, 0o755))
		default:
			Must(t, os.WriteFile(p, []byte(e.Content), 0o644))
		}
	}
	// Deepest first: a mode or time set on a directory would be undone, or
	// made impossible, by setting its children's afterwards.
	for _, name := range slices.Backward(names) {
		e, p := entries[name], filepath.Join(dir, filepath.FromSlash(name))
		if e.Mode&fs.ModeSymlink != 0 {
			continue
		}
		if perm := e.Mode.Perm(); perm != 0 {
			Must(t, os.Chmod(p, perm))
		}
		if !e.ModTime.IsZero() {
			Must(t, os.Chtimes(p, e.ModTime, e.ModTime))
		}
	}
}

// Option chooses what a snapshot records beyond type, mode, file contents
// and link targets.
type Option func(*options)

type options struct {
	fileTimes, dirTimes bool
	skip                string
}

// FileTimes records the modification time of every regular file.
func FileTimes() Option { return func(o *options) { o.fileTimes = true } }

// DirTimes records the modification time of every directory but the root
// (whose time a test's own writes beside the tree move).
func DirTimes() Option { return func(o *options) { o.dirTimes = true } }

// Skip leaves out the subtree at name (slash-separated, relative to the
// root).
func Skip(name string) Option { return func(o *options) { o.skip = name } }

// Snapshot describes every path under dir, without following symlinks,
// as a map of slash-separated name ("." for dir itself) to a description:
// the mode, a file's content (quoted when short, else its size and
// SHA-256) and a symlink's target, plus the times the options ask for.
func Snapshot(t testing.TB, dir string, opts ...Option) map[string]string {
	t.Helper()
	return SnapshotFS(t, os.DirFS(dir), opts...)
}

// SnapshotFS is [Snapshot] of a file system. Symlinks are read with
// fs.ReadLink, so fsys must implement fs.ReadLinkFS if it holds any.
func SnapshotFS(t testing.TB, fsys fs.FS, opts ...Option) map[string]string {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	m := map[string]string{}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if o.skip != "" && name == o.skip {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		desc := info.Mode().String()
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := fs.ReadLink(fsys, name)
			if err != nil {
				return err
			}
			desc += " -> " + target
		case info.Mode().IsRegular():
			data, err := fs.ReadFile(fsys, name)
			if err != nil {
				return err
			}
			desc += " " + describeContent(data)
			if o.fileTimes {
				desc += " mtime " + info.ModTime().UTC().Format(time.RFC3339Nano)
			}
		case info.IsDir() && o.dirTimes && name != ".":
			desc += " mtime " + info.ModTime().UTC().Format(time.RFC3339Nano)
		}
		m[name] = desc
		return nil
	})
	if err != nil {
		t.Fatalf("testtree: snapshot: %v", err)
	}
	return m
}

// describeContent shows short text as it is, and anything else by size
// and digest, so that a failure stays readable.
func describeContent(data []byte) string {
	if len(data) <= 64 && utf8.Valid(data) {
		return fmt.Sprintf("%q", data)
	}
	return fmt.Sprintf("%d bytes sha256:%x", len(data), sha256.Sum256(data))
}

// Diff lists, in name order, every path whose description differs between
// want and got, one line each; none when they are the same.
func Diff(want, got map[string]string) []string {
	var lines []string
	for _, name := range unionNames(want, got) {
		w, inWant := want[name]
		g, inGot := got[name]
		switch {
		case !inGot:
			lines = append(lines, fmt.Sprintf("%s: missing (want %s)", name, w))
		case !inWant:
			lines = append(lines, fmt.Sprintf("%s: unexpected (%s)", name, g))
		case w != g:
			lines = append(lines, fmt.Sprintf("%s: got %s, want %s", name, g, w))
		}
	}
	return lines
}

func unionNames(a, b map[string]string) []string {
	names := slices.Collect(maps.Keys(a))
	for name := range b {
		if _, ok := a[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// Equal fails the test unless the trees under the directories want and
// got hold the same paths with the same types, modes, contents and link
// targets (and the times the options ask for). The roots' own modes are
// not compared: a test's temporary directory is made differently from a
// directory a pull creates.
func Equal(t testing.TB, want, got string, opts ...Option) {
	t.Helper()
	EqualFS(t, os.DirFS(want), os.DirFS(got), opts...)
}

// EqualFS is [Equal] for two file systems, say a directory and the image
// pushed from it.
func EqualFS(t testing.TB, want, got fs.FS, opts ...Option) {
	t.Helper()
	w, g := SnapshotFS(t, want, opts...), SnapshotFS(t, got, opts...)
	delete(w, ".")
	delete(g, ".")
	report(t, "trees differ", Diff(w, g))
}

// Unchanged fails the test if the snapshot after differs from before,
// what naming the tree in the failure.
func Unchanged(t testing.TB, what string, before, after map[string]string) {
	t.Helper()
	report(t, what+" changed", Diff(before, after))
}

func report(t testing.TB, title string, lines []string) {
	t.Helper()
	if len(lines) > 0 {
		t.Errorf("%s:\n\t%s", title, strings.Join(lines, "\n\t"))
	}
}
