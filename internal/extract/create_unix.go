//go:build unix

package extract

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// createNew creates the file name, which must not exist, in the staging
// directory, as openNew does, but with one openat relative to its open
// directory (see dirHandles).
func (d *Dir) createNew(name string) (*os.File, error) {
	byName := func() (*os.File, error) { return d.openNew(name) }
	dir, base := splitName(name)
	h, err := d.dirs.get(d.root, dir)
	if err != nil {
		return byName()
	}
	rc, err := h.SyscallConn()
	if err != nil {
		return byName()
	}
	fd, oerr := -1, error(nil)
	err = rc.Control(func(dirfd uintptr) {
		for {
			fd, oerr = unix.Openat(int(dirfd), base, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
			if !errors.Is(oerr, unix.EINTR) {
				return
			}
		}
	})
	if err != nil {
		return byName() // the handle was closed meanwhile
	}
	if oerr != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: oerr}
	}
	// NewFile, unlike OpenFile, does not try the poller with a regular
	// file.
	return os.NewFile(uintptr(fd), name), nil
}
