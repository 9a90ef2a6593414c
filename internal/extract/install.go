package extract

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// Link creates name as a hard link to existing, which must be a regular file
// this extraction has already committed: linking to anything else would let
// an artifact graft files that were in the directory before onto new names.
func (d *Dir) Link(name, existing string) (err error) {
	defer func() { err = d.userPath(err, name) }()
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
	writing := false
	for f := range d.open {
		writing = writing || f.name == src
	}
	d.mu.Unlock()
	// While staging, every file there is the artifact's, but one still
	// being written is not finished yet.
	if writing || (k != kindFile && d.staging == "") {
		return traversalErr(existing, "hardlink target not in artifact")
	}
	if fi, err := d.root.Lstat(src); errors.Is(err, fs.ErrNotExist) {
		return traversalErr(existing, "hardlink target not in artifact")
	} else if err != nil {
		return err
	} else if !fi.Mode().IsRegular() {
		return traversalErr(existing, "hardlink target is not a regular file")
	}
	if err := d.makeParents(clean); err != nil {
		return err
	}
	if d.staging != "" {
		return twiceErr(clean, d.root.Link(src, clean))
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
