//go:build unix

package extract

import (
	"errors"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// createNew creates the file name, which must not exist, in the staging
// directory, as openNew does, but with one openat relative to its open
// directory (see dirHandles), and with its final permissions perm (which
// DiskPerm made: the umask that openat applies takes nothing off them), so
// that Commit need not set them: the staging directory is private, so the
// content is no less private meanwhile. permSet tells whether it did.
func (d *Dir) createNew(name string, perm fs.FileMode) (f *os.File, permSet bool, err error) {
	byName := func() (*os.File, bool, error) {
		f, err := d.openNew(name)
		return f, false, err
	}
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
			fd, oerr = unix.Openat(int(dirfd), base, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, uint32(perm.Perm()))
			if !errors.Is(oerr, unix.EINTR) {
				return
			}
		}
	})
	if err != nil {
		return byName() // the handle was closed meanwhile
	}
	if oerr != nil {
		return nil, false, &os.PathError{Op: "open", Path: name, Err: oerr}
	}
	// NewFile, unlike OpenFile, does not try the poller with a regular
	// file.
	return os.NewFile(uintptr(fd), name), true, nil
}
