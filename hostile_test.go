package blobber_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/containerd/stargz-snapshotter/estargz"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content/oci"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	ta "github.com/blobber-dev/blobber/internal/testartifact"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// The tests in this file push crafted, hostile artifacts to a real
// registry (or an OCI layout) and check that blobber refuses them with the
// right sentinel, never panics, writes nothing outside the target directory
// and leaves the target directory as it found it.

// hostileEnv is the file system around one pull: parent holds "outside"
// (a sibling of the target with a secret in it), "victim" (a file next to
// the target) and "out", the target directory itself.
type hostileEnv struct {
	parent, outside, dir string
}

const hostileSecret = "top secret\n"

func newHostileEnv(t *testing.T) hostileEnv {
	t.Helper()
	parent := t.TempDir()
	env := hostileEnv{parent: parent, outside: filepath.Join(parent, "outside"), dir: filepath.Join(parent, "out")}
	testtree.Must(t, os.MkdirAll(filepath.Join(env.outside, "sub"), 0o755))
	testtree.Must(t, os.WriteFile(filepath.Join(env.outside, "secret"), []byte(hostileSecret), 0o644))
	testtree.Must(t, os.WriteFile(filepath.Join(parent, "victim"), []byte("victim\n"), 0o644))
	return env
}

var hostileSentinelNames = map[error]string{
	blobber.ErrPathTraversal:    "ErrPathTraversal",
	blobber.ErrNotEStargz:       "ErrNotEStargz",
	blobber.ErrDigestMismatch:   "ErrDigestMismatch",
	blobber.ErrLimitExceeded:    "ErrLimitExceeded",
	blobber.ErrUnsupportedEntry: "ErrUnsupportedEntry",
	blobber.ErrNotFound:         "ErrNotFound",
	blobber.ErrExists:           "ErrExists",
	errHostileAny:               "any error",
}

// errHostileAny accepts any error where a test cannot name the sentinel.
var errHostileAny = errors.New("any error")

// hostileMatch reports whether err matches one of want (errHostileAny:
// any error).
func hostileMatch(err error, want ...error) bool {
	if err == nil {
		return false
	}
	for _, w := range want {
		if w == errHostileAny || errors.Is(err, w) {
			return true
		}
	}
	return false
}

// hostileWantErr checks that err matches one of want.
func hostileWantErr(t *testing.T, what string, err error, want ...error) {
	t.Helper()
	if hostileMatch(err, want...) {
		return
	}
	var names []string
	for _, w := range want {
		names = append(names, hostileSentinelNames[w])
	}
	if err == nil {
		t.Errorf("%s succeeded; want %s", what, strings.Join(names, " or "))
		return
	}
	t.Errorf("%s: %v\n\twant errors.Is %s", what, err, strings.Join(names, " or "))
}

// hostileCall runs f, turning a panic into a test failure.
func hostileCall(t *testing.T, what string, f func() error) (err error) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("%s panicked: %v\n%s", what, p, debug.Stack())
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return f()
}

type hostileStage int

const (
	// hostileOK: the pull succeeds (the artifact is odd, not harmful).
	hostileOK hostileStage = iota
	// hostileAtOpen: the manifest or TOC is refused, so Open and Pull
	// both fail before anything is written.
	hostileAtOpen
	// hostileAtPull: Open succeeds (the TOC is acceptable) and Pull fails.
	hostileAtPull
)

type hostileCase struct {
	name string
	// art builds the artifact; env gives absolute paths to aim at.
	art func(t *testing.T, env hostileEnv) *ta.Artifact
	// layout pushes to an OCI layout instead of the registry; tamper then
	// edits the layout on disk.
	layout bool
	tamper func(t *testing.T, layoutDir string, a *ta.Artifact)
	// pre is what the target directory holds before the pull (see
	// testtree.Write); nil: it does not exist.
	pre map[string]string
	// setup, when set, prepares the target directory further (after pre).
	setup    func(t *testing.T, env hostileEnv)
	opts     []blobber.Option
	pullOpts []blobber.PullOption

	at   hostileStage
	want []error // sentinels, any of which will do

	// read is a path read through Open (fs.ReadFile and WriteFileTo)
	// when Open succeeds: readWant is the sentinel expected, or nil for
	// success with content readData.
	read     string
	readWant error
	readData string

	// check inspects the target after a successful pull.
	check func(t *testing.T, env hostileEnv)
}

// hostileEStargz is the eStargz of a tar of entries, ready to push.
func hostileEStargz(t *testing.T, entries ...ta.Entry) *ta.Artifact {
	t.Helper()
	blob, tocDigest, diffID, err := ta.EStargz(ta.Tar(entries...))
	testtree.Must(t, err)
	return ta.New(blob, tocDigest, diffID)
}

func hostileOf(entries ...ta.Entry) func(*testing.T, hostileEnv) *ta.Artifact {
	return func(t *testing.T, _ hostileEnv) *ta.Artifact { return hostileEStargz(t, entries...) }
}

// hostileTOC is the eStargz of entries with its TOC edited; edit gets the
// blob too, for offsets.
func hostileTOC(entries []ta.Entry, edit func(t *testing.T, blob []byte, toc *estargz.JTOC)) func(*testing.T, hostileEnv) *ta.Artifact {
	return func(t *testing.T, _ hostileEnv) *ta.Artifact {
		blob, _, _, err := ta.EStargz(ta.Tar(entries...))
		testtree.Must(t, err)
		out, tocDigest, err := ta.RewriteTOC(blob, func(toc *estargz.JTOC) { edit(t, blob, toc) })
		testtree.Must(t, err)
		diffID, err := ta.DiffID(out)
		testtree.Must(t, err)
		return ta.New(out, tocDigest, diffID)
	}
}

// hostileEdit is the eStargz of entries with the artifact edited.
func hostileEdit(entries []ta.Entry, edit func(t *testing.T, a *ta.Artifact)) func(*testing.T, hostileEnv) *ta.Artifact {
	return func(t *testing.T, _ hostileEnv) *ta.Artifact {
		a := hostileEStargz(t, entries...)
		edit(t, a)
		return a
	}
}

func hostileFind(t *testing.T, toc *estargz.JTOC, name string) *estargz.TOCEntry {
	t.Helper()
	e := ta.Find(toc, name)
	if e == nil {
		t.Fatalf("no TOC entry %q", name)
	}
	return e
}

// hostileSlug makes a case name a valid repository name component.
func hostileSlug(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), "-")
}

// hostilePush pushes a to a repository (or layout) of its own and returns
// the reference and the client options to read it.
func hostilePush(t *testing.T, ctx context.Context, reg *registrytest.Registry, tc hostileCase, a *ta.Artifact) (string, []blobber.Option) {
	t.Helper()
	slug := hostileSlug(tc.name)
	if tc.layout {
		layoutDir := filepath.Join(t.TempDir(), "layout")
		store, err := oci.New(layoutDir)
		testtree.Must(t, err)
		_, err = a.Push(ctx, store, "v1")
		testtree.Must(t, err)
		if tc.tamper != nil {
			tc.tamper(t, layoutDir, a)
		}
		return layoutDir + ":v1", []blobber.Option{blobber.WithOCILayout()}
	}
	repoName := reg.Host() + "/hostile/" + slug
	repo, err := remote.NewRepository(repoName)
	testtree.Must(t, err)
	repo.PlainHTTP = true
	if _, err := a.Push(ctx, repo, "v1"); err != nil {
		t.Fatalf("the registry refused the artifact: %v", err)
	}
	return repoName + ":v1", nil
}

func runHostile(t *testing.T, reg *registrytest.Registry, tc hostileCase) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	env := newHostileEnv(t)
	ref, opts := hostilePush(t, ctx, reg, tc, tc.art(t, env))
	if tc.pre != nil {
		testtree.Write(t, env.dir, tc.pre)
	}
	if tc.setup != nil {
		tc.setup(t, env)
	}
	parentBefore := testtree.Snapshot(t, env.parent, testtree.Skip("out"), testtree.FileTimes(), testtree.DirTimes())
	var dirBefore map[string]string
	if tc.pre != nil {
		dirBefore = testtree.Snapshot(t, env.dir, testtree.FileTimes())
	}
	c, err := blobber.NewClient(append(opts, tc.opts...)...)
	testtree.Must(t, err)

	var img *blobber.Image
	err = hostileCall(t, "Open", func() (err error) { img, err = c.Open(ctx, ref); return err })
	if tc.at == hostileAtOpen {
		hostileWantErr(t, "Open", err, tc.want...)
	} else if err != nil {
		t.Errorf("Open: %v", err)
	}
	if img != nil {
		hostileReads(t, img, tc)
		img.Close()
	}

	err = hostileCall(t, "Pull", func() error {
		_, err := c.Pull(ctx, ref, env.dir, tc.pullOpts...)
		return err
	})
	t.Logf("Pull: %v", err)
	if tc.at == hostileOK {
		if err != nil {
			t.Errorf("Pull: %v", err)
		} else if tc.check != nil {
			tc.check(t, env)
		}
	} else {
		hostileWantErr(t, "Pull", err, tc.want...)
		if tc.pre == nil {
			if _, err := os.Lstat(env.dir); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("failed pull left the target behind: %v %v", err, testtree.Snapshot(t, env.dir, testtree.FileTimes()))
			}
		} else {
			testtree.Unchanged(t, "target", dirBefore, testtree.Snapshot(t, env.dir, testtree.FileTimes()))
		}
	}
	testtree.Unchanged(t, "outside the target", parentBefore, testtree.Snapshot(t, env.parent, testtree.Skip("out"), testtree.FileTimes(), testtree.DirTimes()))
}

// hostileReads reads through an opened Image: the case's path, expecting
// its outcome, and then every file, expecting only no panic.
func hostileReads(t *testing.T, img *blobber.Image, tc hostileCase) {
	t.Helper()
	if tc.read != "" {
		var data []byte
		err := hostileCall(t, "ReadFile", func() (err error) { data, err = fs.ReadFile(img, tc.read); return err })
		var buf bytes.Buffer
		werr := hostileCall(t, "WriteFileTo", func() error { _, err := img.WriteFileTo(&buf, tc.read); return err })
		if tc.readWant == nil {
			if err != nil || string(data) != tc.readData {
				t.Errorf("ReadFile(%s) = %q, %v; want %q", tc.read, data, err, tc.readData)
			}
			if werr != nil || buf.String() != tc.readData {
				t.Errorf("WriteFileTo(%s) = %q, %v; want %q", tc.read, buf.String(), werr, tc.readData)
			}
		} else {
			hostileWantErr(t, "ReadFile("+tc.read+")", err, tc.readWant)
			hostileWantErr(t, "WriteFileTo("+tc.read+")", werr, tc.readWant)
		}
	}
	_ = hostileCall(t, "WalkDir", func() error {
		return fs.WalkDir(img, ".", func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				_, _ = fs.ReadFile(img, p)
			}
			return nil
		})
	})
}

// hostileModes checks that a pulled path has no setuid, setgid or
// world-write bit.
func hostileModes(t *testing.T, env hostileEnv, names ...string) {
	t.Helper()
	for _, name := range names {
		fi, err := os.Lstat(filepath.Join(env.dir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if m := fi.Mode(); m&(fs.ModeSetuid|fs.ModeSetgid) != 0 || m.Perm()&0o002 != 0 {
			t.Errorf("%s has mode %v: setuid, setgid or world-writable", name, m)
		}
	}
}

func hostileFileIs(t *testing.T, env hostileEnv, name, want string) {
	t.Helper()
	fi, err := os.Lstat(filepath.Join(env.dir, name))
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	if !fi.Mode().IsRegular() {
		t.Errorf("%s is a %v, not a regular file", name, fi.Mode().Type())
		return
	}
	if data, _ := os.ReadFile(filepath.Join(env.dir, name)); string(data) != want {
		t.Errorf("%s = %q, want %q", name, data, want)
	}
}

var (
	hTraversal   = blobber.ErrPathTraversal
	hNotEStargz  = blobber.ErrNotEStargz
	hDigest      = blobber.ErrDigestMismatch
	hLimit       = blobber.ErrLimitExceeded
	hUnsupported = blobber.ErrUnsupportedEntry
	hExists      = blobber.ErrExists
	hAny         = errHostileAny
)

func hostileCases() []hostileCase {
	f := ta.File
	abs := func(build func(env hostileEnv) []ta.Entry) func(*testing.T, hostileEnv) *ta.Artifact {
		return func(t *testing.T, env hostileEnv) *ta.Artifact { return hostileEStargz(t, build(env)...) }
	}
	twoFiles := []ta.Entry{f("a", "alpha-content", 0o644), f("b", "bravo-content", 0o644)}
	longFile := []ta.Entry{f("a", strings.Repeat("the quick brown fox ", 200), 0o644), f("b", "bravo", 0o644)}
	cases := []hostileCase{
		// Names.
		{name: "name-dotdot", art: hostileOf(f("../evil", "x", 0o644)), at: hostileAtOpen, want: []error{hTraversal}},
		{name: "name-dotdot-nested", art: hostileOf(f("a/../../evil", "x", 0o644)), at: hostileAtOpen, want: []error{hTraversal}},
		{name: "name-dot-slash-dotdot", art: hostileOf(f("./../outside/evil", "x", 0o644)), at: hostileAtOpen, want: []error{hTraversal}},
		{name: "name-absolute", art: abs(func(env hostileEnv) []ta.Entry {
			return []ta.Entry{f(filepath.Join(env.outside, "abs-evil"), "x", 0o644)}
		}), at: hostileAtOpen, want: []error{hTraversal}},
		{name: "name-nul", art: hostileTOC([]ta.Entry{f("a", "x", 0o644)}, func(t *testing.T, _ []byte, toc *estargz.JTOC) {
			hostileFind(t, toc, "a").Name = "a\x00/../../outside/evil"
		}), at: hostileAtOpen, want: []error{hTraversal}},
		{name: "name-component-too-long", art: hostileOf(f(strings.Repeat("n", 300), "x", 0o644)),
			at: hostileAtOpen, want: []error{hLimit}},
		{name: "name-nul-suffix", art: hostileTOC([]ta.Entry{f("a", "x", 0o644)}, func(t *testing.T, _ []byte, toc *estargz.JTOC) {
			hostileFind(t, toc, "a").Name = "a\x00"
		}), at: hostileAtOpen, want: []error{hTraversal}},

		// Symlinks.
		{name: "symlink-dotdot", art: hostileOf(ta.Symlink("l", "../outside")), at: hostileAtPull, want: []error{hTraversal},
			read: "l/secret", readWant: hTraversal},
		{name: "symlink-absolute", art: abs(func(env hostileEnv) []ta.Entry {
			return []ta.Entry{ta.Symlink("l", env.outside)}
		}), at: hostileAtPull, want: []error{hTraversal}, read: "l/secret", readWant: hTraversal},
		{name: "symlink-nul-target", art: hostileTOC([]ta.Entry{ta.Symlink("l", "a")}, func(t *testing.T, _ []byte, toc *estargz.JTOC) {
			hostileFind(t, toc, "l").LinkName = "a\x00/../../outside"
		}), at: hostileAtOpen, want: []error{hTraversal}},
		{name: "symlink-then-file-through-it", art: hostileOf(ta.Symlink("l", "../outside"), f("l/f", "pwned", 0o644)),
			at: hostileAtOpen, want: []error{hTraversal}},
		{name: "symlink-inside-then-file-through-it", art: hostileOf(ta.Dir("d"), ta.Symlink("l", "d"), f("l/f", "x", 0o644)),
			at: hostileAtOpen, want: []error{hTraversal}},
		{name: "symlink-chain-then-file", art: hostileOf(ta.Symlink("x", "."), ta.Symlink("y", "x/.."), f("y/e/f", "pwned", 0o644)),
			at: hostileAtOpen, want: []error{hTraversal}},
		{name: "symlink-chain", art: hostileOf(ta.Symlink("x", "."), ta.Symlink("y", "x/..")),
			at: hostileAtPull, want: []error{hTraversal}},
		{name: "symlink-chain-link-before-target", art: hostileOf(ta.Symlink("a", "z/.."), ta.Symlink("z", ".")),
			at: hostileAtPull, want: []error{hTraversal}},
		{name: "symlink-loop", art: hostileOf(ta.Symlink("a", "b"), ta.Symlink("b", "a")),
			at: hostileAtPull, want: []error{hTraversal}, read: "a", readWant: hAny},
		{name: "dir-then-symlink-same-name-then-file", art: hostileOf(ta.Dir("d"), ta.Symlink("d", "../outside"), f("d/f", "pwned", 0o644)),
			at: hostileAtOpen, want: []error{hTraversal, hNotEStargz}},
		{name: "symlink-then-dir-same-name-then-file", art: hostileOf(ta.Symlink("d", "../outside"), ta.Dir("d"), f("d/f", "pwned", 0o644)),
			at: hostileAtOpen, want: []error{hTraversal, hNotEStargz}},
		{name: "preexisting-symlink-as-parent", pre: map[string]string{"keep.txt": "mine", "pre": "-> ../outside"},
			art: hostileOf(f("pre/pwned", "pwned", 0o644)), at: hostileAtPull, want: []error{hTraversal, hExists}},
		{name: "preexisting-symlink-as-parent-overwrite", pre: map[string]string{"keep.txt": "mine", "pre": "-> ../outside"},
			pullOpts: []blobber.PullOption{blobber.WithOverwrite()},
			art:      hostileOf(f("pre/pwned", "pwned", 0o644)), at: hostileAtPull, want: []error{hTraversal, hExists}},
		{name: "symlink-through-preexisting-symlink", pre: map[string]string{"x": "-> ../outside"},
			art: hostileOf(ta.Symlink("y", "x/secret")), at: hostileAtPull, want: []error{hTraversal}},
		{name: "overwrite-replaces-symlink-not-its-target", pre: map[string]string{"pre": "-> ../outside/secret"},
			pullOpts: []blobber.PullOption{blobber.WithOverwrite()},
			art:      hostileOf(f("pre", "replaced", 0o644)), at: hostileOK,
			check: func(t *testing.T, env hostileEnv) { hostileFileIs(t, env, "pre", "replaced") }},
		{name: "overwrite-replaces-hardlink-not-its-inode", pre: map[string]string{},
			setup: func(t *testing.T, env hostileEnv) {
				testtree.Must(t, os.Link(filepath.Join(env.parent, "victim"), filepath.Join(env.dir, "pre")))
			},
			pullOpts: []blobber.PullOption{blobber.WithOverwrite()},
			art:      hostileOf(f("pre", "replaced", 0o644)), at: hostileOK,
			check: func(t *testing.T, env hostileEnv) { hostileFileIs(t, env, "pre", "replaced") }},
		{name: "overwrite-then-failure-restores", pre: map[string]string{"a": "mine", "keep/": ""},
			setup: func(t *testing.T, env hostileEnv) {
				testtree.Must(t, os.Link(filepath.Join(env.parent, "victim"), filepath.Join(env.dir, "b")))
			},
			pullOpts: []blobber.PullOption{blobber.WithOverwrite()},
			art: hostileTOC([]ta.Entry{f("a", "alpha-content", 0o644), f("b", "bravo-content", 0o644), f("c", "charlie-content", 0o644)},
				func(t *testing.T, _ []byte, toc *estargz.JTOC) {
					hostileFind(t, toc, "c").ChunkDigest = digest.FromString("not charlie").String()
				}),
			at: hostileAtPull, want: []error{hDigest}, read: "b", readData: "bravo-content"},

		// Hard links.
		{name: "hardlink-dotdot", art: hostileOf(ta.Hardlink("h", "../victim")), at: hostileAtOpen, want: []error{hTraversal}},
		{name: "hardlink-absolute", art: abs(func(env hostileEnv) []ta.Entry {
			return []ta.Entry{ta.Hardlink("h", filepath.Join(env.parent, "victim"))}
		}), at: hostileAtOpen, want: []error{hTraversal}},
		{name: "hardlink-missing", art: hostileOf(ta.Hardlink("h", "nothere")), at: hostileAtOpen, want: []error{hTraversal, hNotEStargz}},
		{name: "hardlink-to-preexisting-file", pre: map[string]string{"mine.txt": "mine"},
			art: hostileOf(ta.Hardlink("h", "mine.txt")), at: hostileAtOpen, want: []error{hTraversal, hNotEStargz}},
		{name: "hardlink-forward", art: hostileOf(ta.Hardlink("h", "f"), f("f", "x", 0o644)), at: hostileAtOpen, want: []error{hTraversal, hNotEStargz}},
		{name: "hardlink-to-symlink", art: hostileOf(ta.Symlink("l", "../outside/secret"), ta.Hardlink("h", "l")),
			at: hostileAtOpen, want: []error{hTraversal, hNotEStargz}},
		{name: "hardlink-to-dir", art: hostileOf(ta.Dir("d"), ta.Hardlink("h", "d")), at: hostileAtOpen, want: []error{hTraversal, hNotEStargz}},
		{name: "hardlink-through-symlink", art: hostileOf(ta.Dir("d"), f("d/f", "x", 0o644), ta.Symlink("s", "d"), ta.Hardlink("h", "s/f")),
			at: hostileAtOpen, want: []error{hTraversal, hNotEStargz}},

		// Devices and FIFOs.
		{name: "fifo", art: hostileOf(f("a", "x", 0o644), ta.Fifo("p")), at: hostileAtPull, want: []error{hUnsupported}, read: "p", readWant: hUnsupported},
		{name: "char-device", art: hostileOf(ta.CharDev("null")), at: hostileAtPull, want: []error{hUnsupported}, read: "null", readWant: hUnsupported},
		{name: "block-device", art: hostileOf(ta.BlockDev("sda")), at: hostileAtPull, want: []error{hUnsupported}, read: "sda", readWant: hUnsupported},

		// Modes are sanitised, not refused.
		{name: "setuid-setgid-world-writable", art: hostileOf(
			f("suid", "s", 0o4755), f("sgid", "g", 0o2755), f("ww", "w", 0o666|0o002), f("all", "a", 0o7777),
			ta.DirMode("wwdir", 0o1777), ta.DirMode("sgdir", 0o2777), f("sgdir/f", "f", 0o6777),
		), at: hostileOK, read: "all", readData: "a", check: func(t *testing.T, env hostileEnv) {
			hostileModes(t, env, "suid", "sgid", "ww", "all", "wwdir", "sgdir", "sgdir/f")
			hostileFileIs(t, env, "sgdir/f", "f")
			if fi, err := os.Stat(filepath.Join(env.dir, "suid")); err == nil && fi.Mode().Perm() != 0o755 {
				t.Errorf("suid has permissions %v, want 0755 kept", fi.Mode().Perm())
			}
		}},

		// Duplicates.
		{name: "dup-file", art: hostileOf(f("a", "1", 0o644), f("a", "2", 0o644)), at: hostileAtOpen, want: []error{hNotEStargz}},
		{name: "dup-dot-slash", art: hostileOf(f("a", "1", 0o644), f("./a", "2", 0o644)), at: hostileAtOpen, want: []error{hNotEStargz}},
		{name: "dup-file-then-dir", art: hostileOf(f("a", "1", 0o644), ta.Dir("a"), f("a/b", "2", 0o644)), at: hostileAtOpen, want: []error{hNotEStargz, hTraversal}},
		{name: "dup-symlink-then-file", art: hostileOf(ta.Symlink("a", "../outside/secret"), f("a", "2", 0o644)), at: hostileAtOpen, want: []error{hNotEStargz}},

		// Sizes the TOC declares.
		{name: "declared-100GiB", art: hostileTOC(twoFiles, func(t *testing.T, _ []byte, toc *estargz.JTOC) {
			hostileFind(t, toc, "a").Size = 100 << 30
		}), at: hostileAtOpen, want: []error{hLimit}},
		{name: "declared-negative-size", art: hostileTOC(twoFiles, func(t *testing.T, _ []byte, toc *estargz.JTOC) {
			hostileFind(t, toc, "a").Size = -1
		}), at: hostileAtOpen, want: []error{hNotEStargz}},

		// A 2 MiB PAX record in the tar stream: archive/tar itself refuses to
		// read it, but blobber never parses the stream, only the TOC, so it
		// is harmless and the pull succeeds.
		{name: "pax-2MiB-record", art: func(t *testing.T, _ hostileEnv) *ta.Artifact {
			b := ta.NewBuilder()
			testtree.Must(t, b.AddRaw(ta.PAXHeader(map[string]string{
				"comment": strings.Repeat("c", 2<<20),
				"path":    "../outside/pax-evil",
			})))
			testtree.Must(t, b.Add(&tar.Header{Typeflag: tar.TypeReg, Name: "pax", Mode: 0o644, Size: 5}, []byte("hello")))
			blob, tocDigest, diffID, err := b.Finish()
			testtree.Must(t, err)
			return ta.New(blob, tocDigest, diffID)
		}, at: hostileOK, read: "pax", readData: "hello", check: func(t *testing.T, env hostileEnv) { hostileFileIs(t, env, "pax", "hello") }},

		// Footers.
		{name: "footer-past-blob", art: hostileEdit(twoFiles, func(t *testing.T, a *ta.Artifact) {
			hostileSetBlob(a, ta.WithFooter(a.Blob, int64(len(a.Blob))+100))
		}), at: hostileAtOpen, want: []error{hNotEStargz}},
		{name: "footer-negative", art: hostileEdit(twoFiles, func(t *testing.T, a *ta.Artifact) {
			hostileSetBlob(a, ta.WithFooter(a.Blob, -1))
		}), at: hostileAtOpen, want: []error{hNotEStargz}},
		{name: "footer-2^62", art: hostileEdit(twoFiles, func(t *testing.T, a *ta.Artifact) {
			hostileSetBlob(a, ta.WithFooter(a.Blob, 1<<62))
		}), at: hostileAtOpen, want: []error{hNotEStargz}},
		{name: "footer-max-int64", art: hostileEdit(twoFiles, func(t *testing.T, a *ta.Artifact) {
			hostileSetBlob(a, ta.WithFooter(a.Blob, 1<<63-1))
		}), at: hostileAtOpen, want: []error{hNotEStargz}},
		{name: "footer-at-data", art: hostileEdit(twoFiles, func(t *testing.T, a *ta.Artifact) {
			hostileSetBlob(a, ta.WithFooter(a.Blob, 0))
		}), at: hostileAtOpen, want: []error{hNotEStargz}},
		{name: "zstd-toc-size-2^62", art: hostileZstd(func(blob []byte, off, csize, rsize uint64) []byte {
			return ta.WithZstdFooter(blob, off, 1<<62, rsize)
		}), at: hostileAtOpen, want: []error{hNotEStargz}},
		{name: "zstd-toc-size-2^64-1", art: hostileZstd(func(blob []byte, off, csize, rsize uint64) []byte {
			return ta.WithZstdFooter(blob, off, 1<<64-1, rsize)
		}), at: hostileAtOpen, want: []error{hNotEStargz}},
		{name: "zstd-toc-offset-0", art: hostileZstd(func(blob []byte, off, csize, rsize uint64) []byte {
			return ta.WithZstdFooter(blob, 0, csize, rsize)
		}), at: hostileAtOpen, want: []error{hNotEStargz}},
		{name: "zstd-toc-offset-2^64-1", art: hostileZstd(func(blob []byte, off, csize, rsize uint64) []byte {
			return ta.WithZstdFooter(blob, 1<<64-1, csize, rsize)
		}), at: hostileAtOpen, want: []error{hNotEStargz}},
		// The footer's size of the TOC JSON is over the TOC limit: refused
		// before the TOC is inflated (it used to be ignored).
		{name: "zstd-toc-raw-size-2^62", art: hostileZstd(func(blob []byte, off, csize, rsize uint64) []byte {
			return ta.WithZstdFooter(blob, off, csize, 1<<62)
		}), at: hostileAtOpen, want: []error{hLimit}},

		// Chunks.
		{name: "chunk-past-blob", art: hostileTOC(twoFiles, func(t *testing.T, blob []byte, toc *estargz.JTOC) {
			hostileFind(t, toc, "a").Offset = int64(len(blob)) + 10
		}), at: hostileAtOpen, want: []error{hNotEStargz}},
		{name: "chunk-into-toc", art: hostileTOC(twoFiles, func(t *testing.T, blob []byte, toc *estargz.JTOC) {
			off, err := ta.TOCOffset(blob)
			testtree.Must(t, err)
			hostileFind(t, toc, "a").Offset = off
		}), at: hostileAtOpen, want: []error{hNotEStargz}},
		{name: "chunk-negative-offset", art: hostileTOC(twoFiles, func(t *testing.T, _ []byte, toc *estargz.JTOC) {
			hostileFind(t, toc, "a").Offset = -5
		}), at: hostileAtOpen, want: []error{hNotEStargz}},
		{name: "chunk-mid-member", art: hostileTOC(twoFiles, func(t *testing.T, _ []byte, toc *estargz.JTOC) {
			hostileFind(t, toc, "a").Offset++
		}), at: hostileAtPull, want: []error{hDigest}, read: "a", readWant: hDigest},
		{name: "chunk-huge-inner-offset", art: hostileTOC(twoFiles, func(t *testing.T, _ []byte, toc *estargz.JTOC) {
			hostileFind(t, toc, "a").InnerOffset = 1 << 40
		}), at: hostileAtOpen, want: []error{hLimit}},
		{name: "blob-member-corrupted", art: hostileEdit(longFile, func(t *testing.T, a *ta.Artifact) {
			toc, _, err := ta.ReadTOC(a.Blob)
			testtree.Must(t, err)
			blob := bytes.Clone(a.Blob)
			blob[hostileFind(t, toc, "a").Offset+40] ^= 0x55
			hostileSetBlob(a, blob)
		}), at: hostileAtPull, want: []error{hDigest}, read: "a", readWant: hDigest},

		// The TOC against the manifest.
		{name: "toc-digest-differs", art: hostileEdit(twoFiles, func(t *testing.T, a *ta.Artifact) {
			a.Layer.Annotations[estargz.TOCJSONDigestAnnotation] = digest.FromString("another TOC").String()
		}), at: hostileAtOpen, want: []error{hDigest}},
		{name: "toc-digest-malformed", art: hostileEdit(twoFiles, func(t *testing.T, a *ta.Artifact) {
			a.Layer.Annotations[estargz.TOCJSONDigestAnnotation] = "sha256:not-hex"
		}), at: hostileAtOpen, want: []error{hNotEStargz}},
		{name: "plain-targz", art: func(t *testing.T, _ hostileEnv) *ta.Artifact {
			tb := ta.Tar(twoFiles...)
			return ta.New(ta.Gzip(tb), "", digest.FromBytes(tb))
		}, at: hostileAtOpen, want: []error{hNotEStargz}},
		{name: "plain-targz-forged-annotation", art: func(t *testing.T, _ hostileEnv) *ta.Artifact {
			tb := ta.Tar(twoFiles...)
			return ta.New(ta.Gzip(tb), digest.FromBytes(tb), digest.FromBytes(tb))
		}, at: hostileAtOpen, want: []error{hNotEStargz}},

		// The manifest's layer descriptor. Distribution refuses manifests
		// whose layer digests are malformed or whose layers have URLs, so
		// those cases use an OCI layout, where anything can be written.
		{name: "layer-digest-path", layout: true, art: hostileEdit(twoFiles, func(t *testing.T, a *ta.Artifact) {
			a.Layer.Digest = "sha256:../../x"
		}), at: hostileAtOpen, want: []error{hNotEStargz}},
		{name: "layer-digest-path-long", layout: true, art: hostileEdit(twoFiles, func(t *testing.T, a *ta.Artifact) {
			a.Layer.Digest = digest.Digest("sha256:../../../../../../../../" + strings.Repeat("a", 40))
		}), at: hostileAtOpen, want: []error{hNotEStargz}},
		{name: "layer-digest-md5", layout: true, art: hostileEdit(twoFiles, func(t *testing.T, a *ta.Artifact) {
			a.Layer.Digest = "md5:abc"
		}), at: hostileAtOpen, want: []error{hNotEStargz}},
		{name: "layer-size-negative", art: hostileEdit(twoFiles, func(t *testing.T, a *ta.Artifact) {
			a.Layer.Size = -1
		}), at: hostileAtOpen, want: []error{hNotEStargz}},
		{name: "layer-size-zero", art: hostileEdit(twoFiles, func(t *testing.T, a *ta.Artifact) {
			a.Layer.Size = 0
		}), at: hostileAtOpen, want: []error{hNotEStargz}},
		{name: "layer-size-absurd", art: hostileEdit(twoFiles, func(t *testing.T, a *ta.Artifact) {
			a.Layer.Size = 1 << 60
		}), at: hostileAtOpen, want: []error{hNotEStargz}},
		{name: "layer-size-1TiB", art: hostileEdit(twoFiles, func(t *testing.T, a *ta.Artifact) {
			a.Layer.Size = 1 << 40
		}), at: hostileAtOpen, want: []error{hNotEStargz, hDigest}},
		{name: "layer-size-plus-one", art: hostileEdit(twoFiles, func(t *testing.T, a *ta.Artifact) {
			a.Layer.Size++
		}), at: hostileAtOpen, want: []error{hNotEStargz, hDigest}},
		{name: "layout-layer-size-plus-one", layout: true, art: hostileEdit(twoFiles, func(t *testing.T, a *ta.Artifact) {
			a.Layer.Size++
		}), at: hostileAtOpen, want: []error{hNotEStargz, hDigest}},
		{name: "layer-size-minus-one", art: hostileEdit(twoFiles, func(t *testing.T, a *ta.Artifact) {
			a.Layer.Size--
		}), at: hostileAtOpen, want: []error{hNotEStargz, hDigest}},
		{name: "layer-foreign-urls", layout: true, art: hostileEdit(twoFiles, func(t *testing.T, a *ta.Artifact) {
			a.Layer.URLs = []string{"https://evil.example/blob"}
		}), at: hostileAtOpen, want: []error{hNotEStargz}},
		{name: "layer-media-type", art: hostileEdit(twoFiles, func(t *testing.T, a *ta.Artifact) {
			a.Layer.MediaType = "application/vnd.evil"
		}), at: hostileAtOpen, want: []error{hNotEStargz}},
		{name: "two-layers", art: hostileEdit(twoFiles, func(t *testing.T, a *ta.Artifact) {
			a.ExtraLayers = []ocispec.Descriptor{a.Layer}
		}), at: hostileAtOpen, want: []error{hNotEStargz}},

		// A layout blob tampered in a gzip member's MTIME: every chunk still
		// decodes and verifies, so only the whole-layer digest catches it.
		{name: "layout-member-mtime-tampered", layout: true, art: hostileOf(
			ta.Dir("d"), f("d/a", strings.Repeat("alpha ", 100), 0o644), f("b", "bravo", 0o644), f("c", "", 0o644),
		), tamper: func(t *testing.T, layoutDir string, a *ta.Artifact) {
			toc, _, err := ta.ReadTOC(a.Blob)
			testtree.Must(t, err)
			off := hostileFind(t, toc, "b").Offset
			p := filepath.Join(layoutDir, "blobs", "sha256", a.Layer.Digest.Encoded())
			fh, err := os.OpenFile(p, os.O_RDWR, 0)
			if errors.Is(err, fs.ErrPermission) {
				testtree.Must(t, os.Chmod(p, 0o644))
				fh, err = os.OpenFile(p, os.O_RDWR, 0)
			}
			testtree.Must(t, err)
			defer fh.Close()
			var mtime [4]byte
			binary.LittleEndian.PutUint32(mtime[:], 0x5eed5eed)
			_, err = fh.WriteAt(mtime[:], off+4)
			testtree.Must(t, err)
		}, at: hostileAtPull, want: []error{hDigest}, read: "b", readData: "bravo"},
	}
	return append(cases, hostileChunkLies(twoFiles)...)
}

// hostileChunkLies are TOCs whose chunks say what their bytes do not, in a
// layer whose digest matches: the layer's digest vouches for the bytes,
// not for what the TOC says of them. Every reader refuses them alike:
// reading the file (cat, cp) and pulling it, staged into an empty
// directory or file by file into one that holds files, so that no tool
// sees one tree where blobber's pull writes another.
func hostileChunkLies(twoFiles []ta.Entry) []hostileCase {
	lies := []struct {
		name string
		edit func(t *testing.T, blob []byte, toc *estargz.JTOC)
	}{
		{"chunk-into-other-file", func(t *testing.T, _ []byte, toc *estargz.JTOC) {
			hostileFind(t, toc, "a").Offset = hostileFind(t, toc, "b").Offset
		}},
		{"chunk-digest-lies", func(t *testing.T, _ []byte, toc *estargz.JTOC) {
			hostileFind(t, toc, "a").ChunkDigest = digest.FromString("something else").String()
		}},
		{"chunk-inner-offset-lies", func(t *testing.T, _ []byte, toc *estargz.JTOC) {
			hostileFind(t, toc, "a").InnerOffset = 3
		}},
		{"chunk-size-lies", func(t *testing.T, _ []byte, toc *estargz.JTOC) {
			hostileFind(t, toc, "a").Size += 5
		}},
	}
	var cases []hostileCase
	for _, l := range lies {
		cases = append(cases,
			hostileCase{name: l.name, art: hostileTOC(twoFiles, l.edit), at: hostileAtPull, want: []error{hDigest}, read: "a", readWant: hDigest},
			hostileCase{name: l.name + "-into-nonempty", art: hostileTOC(twoFiles, l.edit), pre: map[string]string{"keep.txt": "mine"},
				at: hostileAtPull, want: []error{hDigest}, read: "a", readWant: hDigest})
	}
	return cases
}

// hostileSetBlob replaces the layer blob and makes the descriptor match.
func hostileSetBlob(a *ta.Artifact, blob []byte) {
	a.Blob = blob
	a.Layer.Digest = digest.FromBytes(blob)
	a.Layer.Size = int64(len(blob))
}

// hostileZstd is a zstd:chunked artifact of two files whose footer edit
// rewrites (given the real TOC offset, compressed and raw sizes).
func hostileZstd(edit func(blob []byte, off, csize, rsize uint64) []byte) func(*testing.T, hostileEnv) *ta.Artifact {
	return func(t *testing.T, _ hostileEnv) *ta.Artifact {
		blob, tocDigest, diffID, err := ta.EStargzWith(ta.Tar(ta.File("a", "alpha-content", 0o644), ta.File("b", "bravo-content", 0o644)), ta.Options{Zstd: true})
		testtree.Must(t, err)
		footer := blob[len(blob)-ta.ZstdFooterSize:]
		off := binary.LittleEndian.Uint64(footer[0:])
		csize := binary.LittleEndian.Uint64(footer[8:])
		rsize := binary.LittleEndian.Uint64(footer[16:])
		a := ta.New(edit(blob, off, csize, rsize), tocDigest, diffID)
		a.Layer.MediaType = ocispec.MediaTypeImageLayerZstd
		return a
	}
}

func TestHostileArtifacts(t *testing.T) {
	reg := registrytest.Start(t)
	seen := map[string]bool{}
	for _, tc := range hostileCases() {
		if seen[tc.name] {
			t.Fatalf("duplicate case %s", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runHostile(t, reg, tc)
		})
	}
}

// hostileRepo is a repository of reg to push to.
func hostileRepo(t *testing.T, host, name string) (*remote.Repository, string) {
	t.Helper()
	repo, err := remote.NewRepository(host + "/hostile/" + name)
	testtree.Must(t, err)
	repo.PlainHTTP = true
	return repo, host + "/hostile/" + name
}

// A gzip bomb: a valid eStargz whose one file is 2 GiB of zeros, in 512
// chunks of 4 MiB that compress to about 4 KiB each. The limit refuses it
// from the TOC, having fetched only the end of the blob.
func TestHostileGzipBomb(t *testing.T) {
	t.Parallel()
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	b := ta.NewBuilder()
	testtree.Must(t, b.Add(&tar.Header{Typeflag: tar.TypeReg, Name: "README", Mode: 0o644, Size: 6}, []byte("boom!\n")))
	testtree.Must(t, b.AddZeros(&tar.Header{Typeflag: tar.TypeReg, Name: "bomb", Mode: 0o644, Size: 2 << 30}))
	blob, tocDigest, _, err := b.Finish()
	testtree.Must(t, err)
	repo, ref := hostileRepo(t, reg.Host(), "bomb")
	_, err = ta.New(blob, tocDigest, "").Push(ctx, repo, "v1")
	testtree.Must(t, err)
	ref = strings.Replace(ref, reg.Host(), proxy.Host(), 1) + ":v1"
	t.Logf("blob of %d bytes declares %d", len(blob), int64(2<<30)+6)

	env := newHostileEnv(t)
	before := testtree.Snapshot(t, env.parent, testtree.FileTimes(), testtree.DirTimes())
	c, err := blobber.NewClient(blobber.WithLimits(blobber.Limits{MaxBytes: 1 << 30}))
	testtree.Must(t, err)
	proxy.Reset()
	_, err = c.Open(ctx, ref)
	hostileWantErr(t, "Open", err, hLimit)
	_, err = c.Pull(ctx, ref, env.dir)
	hostileWantErr(t, "Pull", err, hLimit)
	st := proxy.Stats()
	if limit := int64(256 << 10); st.BlobBytes > limit || st.BlobBytes > int64(len(blob))/8 {
		t.Errorf("Open and Pull fetched %d bytes of a %d-byte blob; the TOC alone should have stopped them", st.BlobBytes, len(blob))
	}
	t.Logf("fetched %d blob bytes in %d blob requests", st.BlobBytes, st.BlobRequests)
	testtree.Unchanged(t, "parent", before, testtree.Snapshot(t, env.parent, testtree.FileTimes(), testtree.DirTimes()))
}

// 200,000 empty files against a limit of 100,000. Only the TOC lists them
// (blobber reads nothing else of an empty file), which keeps the blob small
// and the build quick (about 2.5 s under -race, and as long again for
// each refusal, most of it decoding the 6 MB TOC JSON).
func TestHostileManyFiles(t *testing.T) {
	t.Parallel()
	reg := registrytest.Start(t)
	ctx := context.Background()
	start := time.Now()
	var toc bytes.Buffer
	toc.WriteString(`{"version":1,"entries":[`)
	for i := range 200_000 {
		if i > 0 {
			toc.WriteByte(',')
		}
		fmt.Fprintf(&toc, `{"name":"f%06d","type":"reg"}`, i)
	}
	toc.WriteString(`]}`)
	blob, tocDigest, diffID, err := ta.NewBuilder().FinishRaw(toc.Bytes())
	testtree.Must(t, err)
	repo, ref := hostileRepo(t, reg.Host(), "many")
	_, err = ta.New(blob, tocDigest, diffID).Push(ctx, repo, "v1")
	testtree.Must(t, err)
	ref += ":v1"
	t.Logf("built and pushed a %d-byte blob (TOC of %d bytes) in %v", len(blob), toc.Len(), time.Since(start))

	env := newHostileEnv(t)
	before := testtree.Snapshot(t, env.parent, testtree.FileTimes(), testtree.DirTimes())
	c, err := blobber.NewClient(blobber.WithLimits(blobber.Limits{MaxFiles: 100_000}))
	testtree.Must(t, err)
	start = time.Now()
	_, err = c.Open(ctx, ref)
	hostileWantErr(t, "Open", err, hLimit)
	_, err = c.Pull(ctx, ref, env.dir)
	hostileWantErr(t, "Pull", err, hLimit)
	t.Logf("refused twice in %v", time.Since(start))
	testtree.Unchanged(t, "parent", before, testtree.Snapshot(t, env.parent, testtree.FileTimes(), testtree.DirTimes()))
}

// One entry whose name is 150 directories deep: its implied parents count
// as entries too, so a limit of 100 must refuse it.
func TestHostileImplicitDirsCount(t *testing.T) {
	t.Parallel()
	hostileDeepName(t, 150, blobber.Limits{MaxFiles: 100}, hLimit)
}

// A 2 MiB name (a PAX path record's worth): a million nested directories.
// Blobber must refuse it from the TOC, quickly, not spend hours validating
// and creating them.
func TestHostileDeepPath(t *testing.T) {
	t.Parallel()
	hostileDeepName(t, 1<<20, blobber.Limits{}, hLimit, hNotEStargz, hTraversal)
}

func hostileDeepName(t *testing.T, depth int, limits blobber.Limits, want ...error) {
	reg := registrytest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	blob, _, _, err := ta.EStargz(ta.Tar(ta.File("a", "x", 0o644)))
	testtree.Must(t, err)
	name := strings.Repeat("d/", depth) + "f"
	blob, tocDigest, err := ta.RewriteTOC(blob, func(toc *estargz.JTOC) { ta.Find(toc, "a").Name = name })
	testtree.Must(t, err)
	repo, ref := hostileRepo(t, reg.Host(), "deep")
	_, err = ta.New(blob, tocDigest, "").Push(ctx, repo, "v1")
	testtree.Must(t, err)
	ref += ":v1"
	env := newHostileEnv(t)
	before := testtree.Snapshot(t, env.parent, testtree.FileTimes(), testtree.DirTimes())
	c, err := blobber.NewClient(blobber.WithLimits(limits))
	testtree.Must(t, err)
	start := time.Now()
	_, err = c.Open(ctx, ref)
	hostileWantErr(t, "Open", err, want...)
	_, err = c.Pull(ctx, ref, env.dir)
	hostileWantErr(t, "Pull", err, want...)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("refusing a %d-deep name took %v", depth, d)
	}
	testtree.Unchanged(t, "parent", before, testtree.Snapshot(t, env.parent, testtree.FileTimes(), testtree.DirTimes()))
}

// hostileAlloc is the peak of the live heap while f runs, above what it
// was before: what a hostile artifact made blobber hold at once. (Total
// allocation would also count buffers recycled through pools, which the
// race detector's pools drop on purpose.) The tests using it do not run in
// parallel, so nothing else allocates meanwhile to speak of.
func hostileAlloc(f func()) uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	runtime.GC()
	base := read()
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			if v := read(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	f()
	close(done)
	if v := read(); v > peak.Load() {
		peak.Store(v)
	}
	return max(peak.Load(), base) - base
}

const hostileAllocLimit = 256 << 20

// A TOC that declares one 1 GiB chunk for a 13-byte file: reading it must
// fail without allocating the gigabyte first.
func TestHostileHugeChunkAllocation(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	blob, _, _, err := ta.EStargz(ta.Tar(ta.File("a", "alpha-content", 0o644), ta.File("b", "bravo-content", 0o644)))
	testtree.Must(t, err)
	blob, tocDigest, err := ta.RewriteTOC(blob, func(toc *estargz.JTOC) {
		e := ta.Find(toc, "a")
		e.Size, e.ChunkSize = 1<<30, 0
	})
	testtree.Must(t, err)
	repo, ref := hostileRepo(t, reg.Host(), "hugechunk")
	_, err = ta.New(blob, tocDigest, "").Push(ctx, repo, "v1")
	testtree.Must(t, err)
	ref += ":v1"
	c, err := blobber.NewClient()
	testtree.Must(t, err)
	img, err := c.Open(ctx, ref)
	if err != nil {
		// Refused from the TOC, before anything is allocated: the best outcome.
		hostileWantErr(t, "Open", err, hLimit)
		return
	}
	defer img.Close()
	if n := hostileAlloc(func() {
		_, err = fs.ReadFile(img, "b")
		testtree.Must(t, err)
		_, err = img.WriteFileTo(io.Discard, "a")
	}); n > hostileAllocLimit {
		t.Errorf("WriteFileTo allocated %d MiB", n>>20)
	}
	hostileWantErr(t, "WriteFileTo", err, hDigest, hLimit, hNotEStargz)
	env := newHostileEnv(t)
	if n := hostileAlloc(func() { _, err = c.Pull(ctx, ref, env.dir) }); n > hostileAllocLimit {
		t.Errorf("Pull allocated %d MiB", n>>20)
	}
	hostileWantErr(t, "Pull", err, hDigest, hLimit, hNotEStargz)
	if _, err := os.Lstat(env.dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("failed pull left the target behind")
	}
}

// A layout blob with a 1 GiB hole between its data and its TOC (a sparse
// file; a registry serving a lying size does the same): reading the file
// before the hole, or pulling, must not buffer the hole.
func TestHostileGapAllocation(t *testing.T) {
	ctx := context.Background()
	blob, _, _, err := ta.EStargz(ta.Tar(ta.File("a", "alpha-content", 0o644), ta.File("b", "bravo-content", 0o644)))
	testtree.Must(t, err)
	toc, off, err := ta.ReadTOC(blob)
	testtree.Must(t, err)
	tocJSON, err := json.Marshal(toc)
	testtree.Must(t, err)
	const gapEnd = 1 << 30
	tail, err := ta.TOCTail(tocJSON, gapEnd)
	testtree.Must(t, err)

	layoutDir := filepath.Join(t.TempDir(), "layout")
	store, err := oci.New(layoutDir)
	testtree.Must(t, err)
	a := ta.New(nil, digest.FromBytes(tocJSON), "")
	a.Layer.Digest = digest.FromString("a sparse blob") // not its real digest: computing that would read the hole
	a.Layer.Size = gapEnd + int64(len(tail))
	_, err = a.Push(ctx, store, "v1")
	testtree.Must(t, err)
	p := filepath.Join(layoutDir, "blobs", "sha256", a.Layer.Digest.Encoded())
	fh, err := os.Create(p)
	testtree.Must(t, err)
	_, err = fh.WriteAt(blob[:off], 0)
	testtree.Must(t, err)
	_, err = fh.WriteAt(tail, gapEnd)
	testtree.Must(t, err)
	testtree.Must(t, fh.Close())

	ref := layoutDir + ":v1"
	c, err := blobber.NewClient(blobber.WithOCILayout())
	testtree.Must(t, err)
	img, err := c.Open(ctx, ref)
	testtree.Must(t, err)
	defer img.Close()
	var data []byte
	if n := hostileAlloc(func() { data, err = fs.ReadFile(img, "b") }); n > hostileAllocLimit {
		t.Errorf("ReadFile of a 13-byte file allocated %d MiB", n>>20)
	}
	if err != nil || string(data) != "bravo-content" {
		t.Errorf("ReadFile(b) = %q, %v", data, err)
	}
	env := newHostileEnv(t)
	if n := hostileAlloc(func() { _, err = c.Pull(ctx, ref, env.dir) }); n > hostileAllocLimit {
		t.Errorf("Pull allocated %d MiB", n>>20)
	}
	hostileWantErr(t, "Pull", err, hDigest, hLimit, hNotEStargz)
	if _, err := os.Lstat(env.dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("failed pull left the target behind")
	}
}
