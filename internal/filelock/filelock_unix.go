//go:build unix

package filelock

import (
	"errors"
	"os"
	"syscall"
)

// Lock waits for a lock on f: exclusive, or shared with other shared
// holders. flock(2) belongs to the open file description, so it excludes
// other handles of this process as well as other processes.
func Lock(f *os.File, shared bool) error {
	how := syscall.LOCK_EX
	if shared {
		how = syscall.LOCK_SH
	}
	return flock(f, how)
}

// TryLock takes an exclusive lock on f without waiting, and reports
// whether it got it.
func TryLock(f *os.File) (bool, error) {
	err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}

func flock(f *os.File, how int) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	err = rc.Control(func(fd uintptr) {
		for {
			ferr = syscall.Flock(int(fd), how)
			if !errors.Is(ferr, syscall.EINTR) {
				return
			}
		}
	})
	if err != nil {
		return err
	}
	return ferr
}
