package extract

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"
	"time"
)

// maxHops matches Linux's MAXSYMLINKS: a target needing more expansions than
// that would fail to resolve for the kernel too.
const maxHops = 40

// Symlink creates name as a symbolic link to target. Absolute targets, NUL
// bytes and targets that resolve outside the target directory are refused.
// Resolution follows what is on disk now; because later entries can change
// that, Commit checks every symlink again against the final tree.
func (d *Dir) Symlink(name, target string, modTime time.Time) error {
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
			return twiceErr(clean, err)
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
		return err
	}
	if err := d.setTimes(tmp, modTime, true); err != nil {
		return errors.Join(err, d.root.Remove(tmp))
	}
	return d.installOrRemove(tmp, clean, kindSymlink)
}

// checkTarget resolves target the way the kernel would from the directory
// holding the symlink name, one component at a time against what is on disk
// under the root: existing symlinks are expanded (at most maxHops times),
// components that do not exist are applied lexically. Climbing above the root
// at any point is an error wrapping ErrPathTraversal.
func (d *Dir) checkTarget(name, target string) error {
	switch {
	case target == "":
		return fmt.Errorf("extract: symlink %q has an empty target", name)
	case strings.IndexByte(target, 0) >= 0:
		return traversalErr(name, "symlink target contains a NUL byte")
	case strings.HasPrefix(target, "/"):
		return traversalErr(name, fmt.Sprintf("symlink target %q is absolute", target))
	}
	escape := func() error {
		return traversalErr(name, fmt.Sprintf("symlink target %q resolves outside the target directory", target))
	}
	var stack []string // resolved real directories from the root down
	if dir, _ := splitName(name); dir != "." {
		stack = strings.Split(dir, "/")
	}
	pending := strings.Split(target, "/")
	hops := 0
	for len(pending) > 0 {
		c := pending[0]
		pending = pending[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(stack) == 0 {
				return escape()
			}
			stack = stack[:len(stack)-1]
			continue
		}
		cand := strings.Join(append(stack, c), "/")
		fi, err := d.root.Lstat(cand)
		if err != nil {
			// Missing, or under a non-directory: the kernel would stop
			// here, and a later entry may still create it, which Commit
			// re-checks. Until then the rest is purely lexical.
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
				stack = append(stack, c)
				continue
			}
			return fmt.Errorf("extract: resolving symlink %q: %w", name, err)
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			stack = append(stack, c)
			continue
		}
		hops++
		if hops > maxHops {
			return traversalErr(name, fmt.Sprintf("symlink target %q: too many levels of symbolic links", target))
		}
		link, err := d.root.Readlink(cand)
		if err != nil {
			return fmt.Errorf("extract: resolving symlink %q: %w", name, err)
		}
		if link == "" || strings.HasPrefix(link, "/") {
			// An absolute link on the way leaves the root by definition.
			return escape()
		}
		// The link is relative to the directory holding it, which is
		// exactly stack, so only the pending components change.
		pending = append(strings.Split(link, "/"), pending...)
	}
	return nil
}
