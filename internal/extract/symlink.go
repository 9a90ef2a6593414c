package extract

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"time"

	"github.com/blobber-dev/blobber/internal/treepath"
)

// ErrSymlinkPrivilege: the system lets this user create no symlinks
// (Windows without Developer Mode or the "Create symbolic links"
// privilege). Storing the linked files' contents instead is the way out.
var ErrSymlinkPrivilege = errors.New("this user may not create symlinks on Windows (it needs Developer Mode or the \"Create symbolic links\" privilege)")

// Symlink creates name as a symbolic link to target. Absolute targets, NUL
// bytes and targets that resolve outside the target directory are refused.
// Resolution follows what is on disk now; because later entries can change
// that, Commit checks every symlink again against the final tree.
func (d *Dir) Symlink(name, target string, modTime time.Time) (err error) {
	defer func() { err = d.userPath(err, name) }()
	if err := d.begin(); err != nil {
		return err
	}
	defer d.op.RUnlock()
	clean, err := CleanName(name)
	if err != nil {
		return err
	}
	if clean == "." {
		return existsErr(clean, "is the target directory")
	}
	if err := d.makeParents(clean); err != nil {
		return err
	}
	if err := d.checkTarget(clean, target); err != nil {
		return err
	}
	if d.staging != "" {
		if err := d.root.Symlink(target, clean); err != nil {
			return twiceErr(clean, symlinkError(clean, err))
		}
		d.record(clean, kindSymlink)
		return d.setTimes(clean, modTime, true)
	}
	if err := d.precheck(clean); err != nil {
		return err
	}
	// Build the link under a temporary name so that it replaces nothing
	// until install decides it may.
	tmp, err := withTempName(clean, func(tmp string) error { return d.root.Symlink(target, tmp) })
	if err != nil {
		return symlinkError(clean, err)
	}
	if err := d.setTimes(tmp, modTime, true); err != nil {
		return errors.Join(err, d.root.Remove(tmp))
	}
	return d.installOrRemove(tmp, clean, kindSymlink)
}

// checkTarget resolves target against what is on disk under the root now
// (treepath.LinkRefusal). Because later entries can change that, Commit
// checks every symlink again against the final tree.
func (d *Dir) checkTarget(name, target string) error {
	why, err := treepath.LinkRefusal(name, target, func(cand string) (string, bool, bool, error) {
		fi, err := d.root.Lstat(cand)
		if err != nil {
			// Missing, or under a non-directory: the kernel would stop
			// here, and a later entry may still create it.
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
				return "", false, false, nil
			}
			return "", false, false, err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return "", false, true, nil
		}
		link, err := d.root.Readlink(cand)
		return link, true, true, err
	})
	switch {
	case err != nil:
		return fmt.Errorf("extract: %w", err)
	case why != "":
		return traversalErr(name, fmt.Sprintf("symlink target %q: %s", target, why))
	}
	return nil
}
