package filelock

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// Lock waits for a lock on f: exclusive, or shared with other shared
// holders. LockFileEx locks belong to the handle, so other handles of this
// process are excluded too.
func Lock(f *os.File, shared bool) error {
	var flags uint32 = windows.LOCKFILE_EXCLUSIVE_LOCK
	if shared {
		flags = 0
	}
	return lockFileEx(f, flags)
}

// TryLock takes an exclusive lock on f without waiting, and reports
// whether it got it.
func TryLock(f *os.File) (bool, error) {
	err := lockFileEx(f, windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return false, nil
	}
	return err == nil, err
}

// lockFileEx locks the whole file, as far as a lock can reach.
func lockFileEx(f *os.File, flags uint32) error {
	var ol windows.Overlapped
	return windows.LockFileEx(windows.Handle(f.Fd()), flags, 0, ^uint32(0), ^uint32(0), &ol)
}
