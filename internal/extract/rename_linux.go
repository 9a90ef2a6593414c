package extract

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// renameNoReplace moves the entry name of the staging directory (open as
// from) into the target directory (open as to), failing with EEXIST
// instead of replacing what is there. File systems without
// RENAME_NOREPLACE (NFS, 9p, older FUSE) answer EINVAL: there the check
// and the rename are two steps, as on other systems.
func renameNoReplace(_ *os.Root, _ string, from, to *os.File, name string) error {
	fromFd, toFd := int(from.Fd()), int(to.Fd())
	err := unix.Renameat2(fromFd, name, toFd, name, unix.RENAME_NOREPLACE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
		err = checkThenRename(fromFd, toFd, name)
	}
	if err != nil {
		return &os.LinkError{Op: "rename", Old: name, New: name, Err: err}
	}
	return nil
}

// checkThenRename renames name from one directory to another unless the
// other has it, in two steps.
func checkThenRename(fromFd, toFd int, name string) error {
	var st unix.Stat_t
	switch err := unix.Fstatat(toFd, name, &st, unix.AT_SYMLINK_NOFOLLOW); {
	case err == nil:
		return unix.EEXIST
	case errors.Is(err, unix.ENOENT):
		return unix.Renameat(fromFd, name, toFd, name)
	default:
		return err
	}
}
