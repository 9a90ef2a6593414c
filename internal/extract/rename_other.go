//go:build !linux

package extract

import (
	"errors"
	"io/fs"
	"os"
)

// renameNoReplace moves the entry name of the staging directory into the
// target directory outer unless that has one of the name. Without
// renameat2 the check and the rename are two steps.
func renameNoReplace(outer *os.Root, staging string, _, _ *os.File, name string) error {
	if _, err := outer.Lstat(name); err == nil {
		return &os.LinkError{Op: "rename", Old: name, New: name, Err: fs.ErrExist}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return outer.Rename(staging+"/"+name, name)
}
