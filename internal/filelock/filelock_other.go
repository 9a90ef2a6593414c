//go:build !unix && !windows

package filelock

import (
	"errors"
	"os"
)

// Lock fails here, where there are no file locks: a cache that cannot
// lock does without (it warns), rather than race with another process.
func Lock(*os.File, bool) error { return errors.ErrUnsupported }

// TryLock never gets a lock here: whatever it guards counts as held.
func TryLock(*os.File) (bool, error) { return false, nil }
