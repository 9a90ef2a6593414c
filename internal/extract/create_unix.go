//go:build unix

package extract

import (
	"errors"
	"io"
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
func (d *Dir) createNew(name string, perm fs.FileMode) (f fileHandle, permSet bool, err error) {
	byName := func() (fileHandle, bool, error) {
		f, err := d.openNew(name)
		if err != nil {
			return nil, false, err
		}
		return f, false, nil
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
	return rawFile{fd: fd, name: name}, true, nil
}

// rawFile is a file written through its bare descriptor: os.NewFile would
// cost one fcntl per file (it asks whether the descriptor is non-blocking),
// and OpenFile by name tries the poller too. A regular file needs neither.
// Its users close it once (File's done flag).
type rawFile struct {
	fd   int
	name string
}

// err is err, if any, as an *os.File method would return it.
func (r rawFile) err(op string, err error) error {
	if err == nil {
		return nil
	}
	return &os.PathError{Op: op, Path: r.name, Err: err}
}

func (r rawFile) WriteAt(p []byte, off int64) (int, error) {
	done := 0
	for done < len(p) {
		n, err := unix.Pwrite(r.fd, p[done:], off+int64(done))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return done, r.err("write", err)
		}
		if n <= 0 {
			return done, r.err("write", io.ErrShortWrite)
		}
		done += n
	}
	return done, nil
}

func (r rawFile) Truncate(size int64) error {
	return r.err("truncate", ignoringEINTR(func() error { return unix.Ftruncate(r.fd, size) }))
}

func (r rawFile) Chmod(mode fs.FileMode) error {
	return r.err("chmod", ignoringEINTR(func() error { return unix.Fchmod(r.fd, uint32(mode.Perm())) }))
}

func (r rawFile) Close() error { return r.err("close", unix.Close(r.fd)) }

func ignoringEINTR(f func() error) error {
	for {
		if err := f(); !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}
