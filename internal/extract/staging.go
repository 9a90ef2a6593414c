package extract

import (
	"errors"
	"io"
	"io/fs"
	"os"
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

// startStaging makes the hidden staging directory in outer and opens it.
func startStaging(outer *os.Root) (string, *os.Root, error) {
	name, err := withTempName("staging", func(tmp string) error { return outer.Mkdir(tmp, 0o700) })
	if err != nil {
		return "", nil, err
	}
	root, err := outer.OpenRoot(name)
	if err != nil {
		_ = outer.Remove(name)
		return "", nil, err
	}
	return name, root, nil
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
	d.staging = ""
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
		d.staging = ""
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
