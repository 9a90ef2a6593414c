package extract

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"time"
)

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
	d.dirs.closeAll()
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
	if d.staging != "" {
		// Before the modes: moving a directory needs write permission
		// on it, which its final mode may not give.
		if err := d.moveUp(); err != nil {
			return err
		}
		if err := d.endStaging(); err != nil {
			return err
		}
		if d.afterMove != nil {
			d.afterMove()
		}
	}
	d.modesApplied = true
	for _, name := range deepestFirst(d.made) {
		meta, explicit := d.meta[name]
		if !explicit {
			meta.mode = sanitizeMode(defaultDirMode)
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
	d.dirs.closeAll()
	var errs []error
	for f := range d.open {
		errs = append(errs, f.discardLocked())
	}
	if d.staged {
		// Everything is in the staging directory, or was moved up
		// from it, and all of it is this extraction's.
		errs = append(errs, d.abortStaged(), removeMade(d.openMade))
		return errors.Join(errs...)
	}
	d.reopenDirs()
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

// reopenDirs makes the directories this extraction created searchable
// and writable again, shallowest first, if Commit already gave them their
// final (perhaps read-only) modes, so that they can be emptied.
func (d *Dir) reopenDirs() {
	if !d.modesApplied {
		return
	}
	dirs := deepestFirst(d.made)
	slices.Reverse(dirs)
	for _, name := range dirs {
		if fi, err := d.root.Lstat(name); err == nil && fi.IsDir() {
			_ = d.root.Chmod(name, 0o700)
		}
	}
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
