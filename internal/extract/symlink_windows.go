package extract

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows"
)

// symlinkError explains the failure Windows gives a user who may not
// create symlinks (neither Developer Mode nor the privilege).
func symlinkError(name string, err error) error {
	if errors.Is(err, windows.ERROR_PRIVILEGE_NOT_HELD) {
		return fmt.Errorf("%w: %q: %v", ErrSymlinkPrivilege, name, err)
	}
	return err
}
