// Package extract writes an artifact's files into a directory, never outside
// it, and removes what it created if the extraction fails.
//
// Every name, mode, time and link target handed to this package is treated as
// hostile. All file system access below the target directory goes through an
// os.Root, so even a symlink that slipped past the checks here cannot redirect
// a write outside it; the checks on top of that (no symlinks as parent
// directories, symlink targets that must resolve inside) keep the extracted
// tree itself from becoming a trap for later tools.
package extract

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"
)

// Options tune an extraction.
type Options struct {
	// Overwrite replaces existing non-directory files, atomically by rename.
	// Without it any existing non-directory path the artifact names is an
	// error. Directories are never replaced.
	Overwrite bool
	// KeepTimes applies the modification times given to Mkdir, CreateFile
	// and Symlink; otherwise files keep the time they were written.
	KeepTimes bool
}

// kind is what this extraction put at a non-directory path.
type kind uint8

const (
	kindFile    kind = iota + 1 // regular file, including hard links
	kindSymlink                 // symlink, re-verified at Commit
)

// dirMeta is what the artifact asked for a directory it names.
type dirMeta struct {
	mode    fs.FileMode
	modTime time.Time
}

type state uint8

const (
	active state = iota
	committed
	aborted
)

// defaultDirMode is what directories get that the artifact only implies as
// parents, matching what tar does.
const defaultDirMode fs.FileMode = 0o755

// errFinished is returned by operations after Commit or Abort.
var errFinished = errors.New("extract: extraction already committed or aborted")

// Dir is one extraction in progress into a directory. Its methods, and those
// of the Files it creates, may be called from several goroutines at once.
type Dir struct {
	opts     Options
	root     *os.Root
	openMade []string // directories Open created, deepest first

	// noHardLinks makes install take its paths for file systems without
	// hard links; only tests set it.
	noHardLinks bool

	// op is held shared by every operation and exclusively by Commit and
	// Abort, so nothing can be created behind the back of a cleanup.
	op    sync.RWMutex
	state state // written only with op held exclusively

	mu           sync.Mutex         // guards the bookkeeping below
	made         map[string]bool    // directories this extraction created
	meta         map[string]dirMeta // applied at Commit, to made ones only
	known        map[string]bool    // verified real directories, to skip Lstat
	entries      map[string]kind
	backups      map[string]string // replaced original -> its saved copy
	open         map[*File]struct{}
	modesApplied bool
}

// Open prepares extraction into dir, creating it and missing parents; it
// remembers which of them it created so that Abort can remove them again.
func Open(dir string, opts Options) (*Dir, error) {
	if dir == "" {
		return nil, errors.New("extract: empty target directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	made, err := mkdirAllTracked(abs)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		_ = removeMade(made)
		return nil, err
	}
	return &Dir{
		opts:     opts,
		root:     root,
		openMade: made,
		made:     map[string]bool{},
		meta:     map[string]dirMeta{},
		known:    map[string]bool{".": true},
		entries:  map[string]kind{},
		backups:  map[string]string{},
		open:     map[*File]struct{}{},
	}, nil
}

// mkdirAllTracked is os.MkdirAll that reports, deepest first, the directories
// it created itself, so that a concurrent creator's directory is not ours.
func mkdirAllTracked(dir string) ([]string, error) {
	var missing []string
	for p := dir; ; {
		_, err := os.Stat(p)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		missing = append(missing, p)
		parent := filepath.Dir(p)
		if parent == p {
			break
		}
		p = parent
	}
	var made []string
	for i := len(missing) - 1; i >= 0; i-- {
		err := os.Mkdir(missing[i], 0o755)
		if err == nil {
			made = append(made, missing[i])
		} else if !errors.Is(err, fs.ErrExist) {
			slices.Reverse(made)
			_ = removeMade(made)
			return nil, err
		}
	}
	slices.Reverse(made)
	return made, nil
}

// removeMade removes directories Open created, deepest first, stopping at the
// first one something else has meanwhile put content into.
func removeMade(made []string) error {
	for _, p := range made {
		if err := os.Remove(p); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if isNotEmpty(err) {
				return nil
			}
			return err
		}
	}
	return nil
}

func isNotEmpty(err error) bool {
	return errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST)
}

// begin admits an operation; the caller must d.op.RUnlock when done.
func (d *Dir) begin() error {
	d.op.RLock()
	if d.state != active {
		d.op.RUnlock()
		return errFinished
	}
	return nil
}

// Check reports, without writing anything, whether writing the entry would
// conflict with what is already in the directory, so that a pull can fail
// before downloading anything. Existing parents must be real directories.
func (d *Dir) Check(name string, isDir bool) error {
	if err := d.begin(); err != nil {
		return err
	}
	defer d.op.RUnlock()
	clean, err := CleanName(name)
	if err != nil {
		return err
	}
	if clean == "." {
		if isDir {
			return nil
		}
		return existsErr(clean, "is the target directory")
	}
	for i := range len(clean) {
		if clean[i] != '/' {
			continue
		}
		p := clean[:i]
		fi, err := d.root.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return traversalErr(p, "parent directory is a symlink")
		}
		if !fi.IsDir() {
			return existsErr(p, "parent is not a directory")
		}
	}
	fi, err := d.root.Lstat(clean)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case isDir && !fi.IsDir():
		return existsErr(clean, "exists and is not a directory")
	case isDir:
		return nil
	case fi.IsDir():
		return existsErr(clean, "is a directory")
	case !d.opts.Overwrite:
		return existsErr(clean, "already exists")
	}
	return nil
}

// Mkdir creates the directory name and any missing parents. An existing
// directory is accepted, and left as it was if this extraction did not make
// it. The mode is applied at Commit, so that a read-only directory can still
// receive its content first.
func (d *Dir) Mkdir(name string, mode fs.FileMode, modTime time.Time) error {
	if err := d.begin(); err != nil {
		return err
	}
	defer d.op.RUnlock()
	clean, err := CleanName(name)
	if err != nil {
		return err
	}
	if clean == "." {
		return nil
	}
	if err := d.makeParents(clean); err != nil {
		return err
	}
	return d.ensureDir(clean, &dirMeta{mode: sanitizeMode(mode), modTime: modTime})
}

// makeParents makes sure every proper prefix of name is a real directory,
// creating the missing ones. A symlink as a parent is refused even when it
// points inside: os.Root would follow it, and an artifact that writes through
// its own symlinks is how extraction attacks start.
func (d *Dir) makeParents(name string) error {
	for i := range len(name) {
		if name[i] == '/' {
			if err := d.ensureDir(name[:i], nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// ensureDir makes p a directory. meta is nil for parents the artifact only
// implies. It is recorded before anything else so that it is not lost when a
// concurrent worker happens to create p as a parent first.
func (d *Dir) ensureDir(p string, meta *dirMeta) error {
	d.mu.Lock()
	if meta != nil {
		d.meta[p] = *meta
	}
	ok := d.known[p]
	d.mu.Unlock()
	if ok {
		return nil
	}
	fi, err := d.root.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) {
		// Owner-only until Commit, whatever the artifact asked for, so
		// that content can go in and nobody else looks in half-way.
		err = d.root.Mkdir(p, 0o700)
		if err == nil {
			d.mu.Lock()
			d.made[p] = true
			d.known[p] = true
			d.mu.Unlock()
			return nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return err
		}
		// A concurrent worker made it first; see what is there now.
		fi, err = d.root.Lstat(p)
	}
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		if meta != nil {
			return existsErr(p, "is a symlink, not a directory")
		}
		return traversalErr(p, "parent directory is a symlink")
	}
	if !fi.IsDir() {
		return existsErr(p, "exists and is not a directory")
	}
	d.mu.Lock()
	d.known[p] = true
	d.mu.Unlock()
	return nil
}

// Link creates name as a hard link to existing, which must be a regular file
// this extraction has already committed: linking to anything else would let
// an artifact graft files that were in the directory before onto new names.
func (d *Dir) Link(name, existing string) error {
	if err := d.begin(); err != nil {
		return err
	}
	defer d.op.RUnlock()
	clean, err := CleanName(name)
	if err != nil {
		return err
	}
	src, err := CleanName(existing)
	if err != nil {
		return err
	}
	if clean == "." {
		return existsErr(clean, "is the target directory")
	}
	d.mu.Lock()
	k := d.entries[src]
	d.mu.Unlock()
	if k != kindFile {
		return traversalErr(existing, "hardlink target not in artifact")
	}
	if fi, err := d.root.Lstat(src); err != nil {
		return err
	} else if !fi.Mode().IsRegular() {
		return traversalErr(existing, "hardlink target is not a regular file")
	}
	if err := d.makeParents(clean); err != nil {
		return err
	}
	if err := d.precheck(clean); err != nil {
		return err
	}
	tmp, err := withTempName(clean, func(tmp string) error { return d.root.Link(src, tmp) })
	if err != nil {
		return err
	}
	return d.installOrRemove(tmp, clean, kindFile)
}

// precheck fails early on a conflict that install would find anyway, so that
// callers do not download content that cannot be placed.
func (d *Dir) precheck(name string) error {
	fi, err := d.root.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return existsErr(name, "is a directory")
	}
	if !d.opts.Overwrite {
		return existsErr(name, "already exists")
	}
	return nil
}

// installOrRemove is install that removes tmp when it could not be placed.
func (d *Dir) installOrRemove(tmp, name string, k kind) error {
	err := d.install(tmp, name, k)
	if err != nil {
		if rerr := d.root.Remove(tmp); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = errors.Join(err, rerr)
		}
	}
	return err
}

// install moves the finished temporary tmp to name and records name as
// created. Without Overwrite it never replaces anything, atomically; with it,
// a pre-existing non-directory is first saved under a hidden name so that
// Abort can put it back.
func (d *Dir) install(tmp, name string, k kind) error {
	if fi, err := d.root.Lstat(name); err == nil && fi.IsDir() {
		return existsErr(name, "is a directory")
	}
	if !d.opts.Overwrite {
		// link(2) fails with EEXIST instead of replacing, which closes the
		// window between checking for name and renaming onto it.
		err := d.installLink(tmp, name)
		if errors.Is(err, fs.ErrExist) {
			return existsErr(name, "already exists")
		}
		if err == nil {
			d.record(name, k)
			if err := d.root.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
				d.record(tmp, k)
				return err
			}
			return nil
		}
		// No hard links here (some file systems): check and rename under
		// the lock, which at least serialises our own workers.
		d.mu.Lock()
		defer d.mu.Unlock()
		if _, err := d.root.Lstat(name); err == nil {
			return existsErr(name, "already exists")
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err := d.root.Rename(tmp, name); err != nil {
			return err
		}
		d.entries[name] = k
		return nil
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	fi, err := d.root.Lstat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := d.root.Rename(tmp, name); err != nil {
			return err
		}
		d.entries[name] = k
		return nil
	case err != nil:
		return err
	case fi.IsDir():
		return existsErr(name, "is a directory")
	}
	_, ours := d.entries[name]
	if ours || d.backups[name] != "" {
		if err := d.root.Rename(tmp, name); err != nil {
			return err
		}
		d.entries[name] = k
		d.removeSameInode(tmp)
		return nil
	}
	// Keep the original reachable under a hidden name until Commit: a link
	// keeps the replacement a single atomic rename.
	backup, err := withTempName(name, func(b string) error { return d.installLink(name, b) })
	if err != nil {
		// Without hard links, move the original aside; name is briefly
		// missing, which beats losing it on Abort.
		backup, err = withTempName(name, func(b string) error {
			if _, err := d.root.Lstat(b); err == nil {
				return fs.ErrExist
			}
			return d.root.Rename(name, b)
		})
		if err != nil {
			return err
		}
	}
	if err := d.root.Rename(tmp, name); err != nil {
		if _, lerr := d.root.Lstat(name); errors.Is(lerr, fs.ErrNotExist) {
			_ = d.root.Rename(backup, name)
		} else {
			_ = d.root.Remove(backup)
		}
		return err
	}
	d.backups[name] = backup
	d.entries[name] = k
	d.removeSameInode(tmp)
	return nil
}

// installLink is the hard link install prefers but can do without.
func (d *Dir) installLink(oldname, newname string) error {
	if d.noHardLinks {
		return &os.LinkError{Op: "link", Old: oldname, New: newname, Err: syscall.EPERM}
	}
	return d.root.Link(oldname, newname)
}

// removeSameInode removes tmp if rename(2) left it: renaming onto a hard link
// of the same inode succeeds without doing anything.
func (d *Dir) removeSameInode(tmp string) {
	_ = d.root.Remove(tmp)
}

func (d *Dir) record(name string, k kind) {
	d.mu.Lock()
	d.entries[name] = k
	d.mu.Unlock()
}

// setTimes applies t to name if KeepTimes asks for it. A zero time means the
// artifact did not say, so the time of writing stays.
func (d *Dir) setTimes(name string, t time.Time, symlink bool) error {
	if !d.opts.KeepTimes || t.IsZero() {
		return nil
	}
	if symlink {
		// Root.Chtimes would follow the link and touch its target.
		return lchtimes(d.root, name, t)
	}
	return d.root.Chtimes(name, t, t)
}

// Commit finishes the extraction: it re-verifies every symlink this
// extraction created against the final tree (a later entry can change where
// an earlier link resolves), then applies directory modes deepest first and
// times, and drops the saved copies of replaced files. On failure it undoes
// everything like Abort and returns the error. The root is closed either way.
func (d *Dir) Commit() error {
	d.op.Lock()
	defer d.op.Unlock()
	if d.state != active {
		return errFinished
	}
	if err := d.finish(); err != nil {
		return errors.Join(err, d.abortLocked())
	}
	d.state = committed
	var errs []error
	for orig, b := range d.backups {
		if err := d.root.Remove(b); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("extract: extraction complete, but the replaced original of %q remains as %q: %w", orig, b, err))
		}
	}
	errs = append(errs, d.root.Close())
	return errors.Join(errs...)
}

func (d *Dir) finish() error {
	for _, name := range sortedKeys(d.entries) {
		if d.entries[name] != kindSymlink {
			continue
		}
		fi, err := d.root.Lstat(name)
		if err != nil {
			return err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return fmt.Errorf("extract: symlink %q was replaced during extraction", name)
		}
		target, err := d.root.Readlink(name)
		if err != nil {
			return err
		}
		if err := d.checkTarget(name, target); err != nil {
			return err
		}
	}
	if n := len(d.open); n > 0 {
		return fmt.Errorf("extract: %d files were neither committed nor discarded", n)
	}
	d.modesApplied = true
	for _, name := range deepestFirst(d.made) {
		meta, explicit := d.meta[name]
		if !explicit {
			meta.mode = defaultDirMode
		}
		fi, err := d.root.Lstat(name)
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return fmt.Errorf("extract: directory %q was replaced during extraction", name)
		}
		if err := d.root.Chmod(name, meta.mode); err != nil {
			return err
		}
		if explicit {
			if err := d.setTimes(name, meta.modTime, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// Abort removes everything this extraction created: temporary files,
// committed files, links, symlinks and directories (deepest first), and the
// target directory if Open created it. Files it replaced are put back and
// anything else that was there before is left untouched. It closes the root.
// Abort may be called more than once, after a failed Commit, and after a
// successful Commit, when it does nothing.
func (d *Dir) Abort() error {
	d.op.Lock()
	defer d.op.Unlock()
	if d.state != active {
		return nil
	}
	return d.abortLocked()
}

func (d *Dir) abortLocked() error {
	d.state = aborted
	var errs []error
	for f := range d.open {
		errs = append(errs, f.discardLocked())
	}
	if d.modesApplied {
		// Commit may have made directories read-only; reopen them
		// shallowest first so that every parent is searchable again.
		dirs := deepestFirst(d.made)
		slices.Reverse(dirs)
		for _, name := range dirs {
			if fi, err := d.root.Lstat(name); err == nil && fi.IsDir() {
				_ = d.root.Chmod(name, 0o700)
			}
		}
	}
	for _, name := range sortedKeys(d.entries) {
		if err := d.root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	for _, orig := range sortedKeys(d.backups) {
		if err := d.root.Rename(d.backups[orig], orig); err != nil {
			errs = append(errs, err)
		}
	}
	for _, name := range deepestFirst(d.made) {
		// Remove would also unlink a file someone put in its place.
		if fi, err := d.root.Lstat(name); err != nil || !fi.IsDir() {
			continue
		}
		if err := d.root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	errs = append(errs, d.root.Close())
	errs = append(errs, removeMade(d.openMade))
	return errors.Join(errs...)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func deepestFirst(dirs map[string]bool) []string {
	names := sortedKeys(dirs)
	slices.SortStableFunc(names, func(a, b string) int { return depth(b) - depth(a) })
	return names
}
