package extract

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/blobber-dev/blobber/internal/filelock"
)

// Staging: when the target directory is empty (or new), the extraction is
// written into a hidden directory inside it, and Commit moves its top-level
// entries up. Inside the staging directory every name is new and ours, so
// files are created under their final names with O_EXCL: no temporary name,
// no check of what is there, no rename per file — a third of the system
// calls, which is what a tree of many small files costs. An interrupted
// pull leaves at most the hidden directory, never a half-written file under
// a name the artifact gave; a target that already holds files takes the
// per-file path (temporary name, then an atomic install).

// Staged reports whether this extraction is staged: then nothing it writes
// appears under a name the artifact gave before Commit.
func (d *Dir) Staged() bool { return d.staged }

// isEmptyDir reports whether the directory root has no entries.
func isEmptyDir(root *os.Root) (bool, error) {
	f, err := root.Open(".")
	if err != nil {
		return false, err
	}
	defer f.Close()
	_, err = f.ReadDir(1)
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	return false, err
}

// A pull that is killed leaves its staging directory behind. So that the
// next pull into the directory can tell such a leftover from the staging
// directory of a pull still running, each has a lock file beside it
// (".staging.blobber-<hex>.lock"), locked by the pulling process for the
// staging directory's lifetime: the lock is made and taken before the
// directory, and removed after it. A staging directory whose lock can be
// taken belongs to no live process, and Open removes it.

const (
	stagingPrefix = ".staging.blobber-"
	lockSuffix    = ".lock"

	// staleUnlocked is how old a staging directory without a lock file
	// (left by a blobber that made none) must be to count as a leftover
	// rather than the work of a pull still running.
	staleUnlocked = time.Hour
)

// startStaging makes the hidden staging directory in outer, with its lock
// file, locked, and opens it.
func startStaging(outer *os.Root) (string, *os.Root, *os.File, error) {
	var lock *os.File
	name, err := withTempName("staging", func(tmp string) error {
		f, err := outer.OpenFile(tmp+lockSuffix, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		// Freshly made, nobody else holds it; where there are no locks,
		// the directory is only ever removed when old and lock-less.
		if _, err := filelock.TryLock(f); err != nil {
			f.Close()
			_ = outer.Remove(tmp + lockSuffix)
			return err
		}
		if err := outer.Mkdir(tmp, 0o700); err != nil {
			f.Close()
			_ = outer.Remove(tmp + lockSuffix)
			return err
		}
		lock = f
		return nil
	})
	if err != nil {
		return "", nil, nil, err
	}
	root, err := outer.OpenRoot(name)
	if err != nil {
		_ = outer.Remove(name)
		releaseStagingLock(outer, name, lock)
		return "", nil, nil, err
	}
	return name, root, lock, nil
}

// releaseStagingLock drops the lock of the staging directory name, once
// the directory is gone.
func releaseStagingLock(outer *os.Root, name string, lock *os.File) error {
	if lock == nil {
		return nil
	}
	err := lock.Close()
	if rerr := outer.Remove(name + lockSuffix); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		err = errors.Join(err, rerr)
	}
	return err
}

// removeStaleStaging removes from the target directory root the staging
// directories of pulls that are no longer running (their lock can be
// taken), and lock files whose directory is gone. A staging directory
// whose lock is held is left alone.
func removeStaleStaging(root *os.Root) error {
	f, err := root.Open(".")
	if err != nil {
		return err
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range names {
		if !strings.HasPrefix(name, stagingPrefix) {
			continue
		}
		dir, isLock := strings.CutSuffix(name, lockSuffix)
		if isLock && slices.Contains(names, dir) {
			continue // handled with its directory
		}
		if err := removeIfStale(root, dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeIfStale removes the staging directory dir (which may be gone) and
// its lock file, unless a live process holds the lock.
func removeIfStale(root *os.Root, dir string) error {
	lockName := dir + lockSuffix
	fi, err := root.Lstat(lockName)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// No lock file: made by a blobber that made none, or what a
		// crash between the two removals left. Only an old one goes.
		di, err := root.Lstat(dir)
		if err != nil || !di.IsDir() || time.Since(di.ModTime()) < staleUnlocked {
			return nil
		}
		return root.RemoveAll(dir)
	case err != nil:
		return err
	case !fi.Mode().IsRegular():
		return nil // not a lock this package made
	}
	lock, err := root.OpenFile(lockName, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer lock.Close()
	if got, err := filelock.TryLock(lock); err != nil || !got {
		return err // a live pull's, or not to be judged
	}
	if di, err := root.Lstat(dir); err == nil && di.IsDir() {
		if err := root.RemoveAll(dir); err != nil {
			return err
		}
	}
	if err := root.Remove(lockName); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// moveUp moves the staging directory's entries into the target directory,
// never replacing anything that appeared there meanwhile, and records which
// it moved so that Abort can remove them.
func (d *Dir) moveUp() error {
	from, err := d.outer.Open(d.staging)
	if err != nil {
		return err
	}
	defer from.Close()
	to, err := d.outer.Open(".")
	if err != nil {
		return err
	}
	defer to.Close()
	names, err := from.Readdirnames(-1)
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := renameNoReplace(d.outer, d.staging, from, to, name); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return existsErr(name, "appeared in the target directory during the pull")
			}
			return err
		}
		d.moved = append(d.moved, name)
	}
	return nil
}

// endStaging leaves the staging directory: the Dir's root becomes the
// target directory, where moveUp put everything.
func (d *Dir) endStaging() error {
	err := d.outer.Remove(d.staging)
	err = errors.Join(err, releaseStagingLock(d.outer, d.staging, d.lock))
	d.staging, d.lock = "", nil
	err = errors.Join(err, d.root.Close())
	d.root, d.outer = d.outer, nil
	return err
}

// abortStaged removes what a staged extraction wrote: the staging
// directory if it is still there, and what Commit moved up from it, which
// may already have its final, perhaps read-only, modes.
func (d *Dir) abortStaged() error {
	var errs []error
	if d.staging != "" { // d.root is still the staging directory
		errs = append(errs, d.root.Close())
		d.root, d.outer = d.outer, nil
		errs = append(errs, d.root.RemoveAll(d.staging))
		errs = append(errs, releaseStagingLock(d.root, d.staging, d.lock))
		d.staging, d.lock = "", nil
	}
	d.reopenDirs()
	for _, name := range d.moved {
		// Only what is still of the kind that was moved: something
		// else put there since is not this extraction's.
		fi, err := d.root.Lstat(name)
		switch {
		case err != nil:
		case fi.IsDir() && d.made[name]:
			errs = append(errs, d.root.RemoveAll(name))
		case !fi.IsDir() && !d.made[name]:
			errs = append(errs, d.root.Remove(name))
		}
	}
	errs = append(errs, d.root.Close())
	return errors.Join(errs...)
}
