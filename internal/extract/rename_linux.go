package extract

import (
	"os"

	"golang.org/x/sys/unix"
)

// renameNoReplace moves the entry name of the staging directory (open as
// from) into the target directory (open as to), failing with EEXIST
// instead of replacing what is there.
func renameNoReplace(_ *os.Root, _ string, from, to *os.File, name string) error {
	err := unix.Renameat2(int(from.Fd()), name, int(to.Fd()), name, unix.RENAME_NOREPLACE)
	if err != nil {
		return &os.LinkError{Op: "rename", Old: name, New: name, Err: err}
	}
	return nil
}
