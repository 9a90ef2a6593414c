package blobber

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// dirHandle is an open directory of the tree that files are opened in by
// openat(2) itself, for openListed.
type dirHandle struct{ f *os.File }

func (h *dirHandle) close() {
	if h.f != nil {
		h.f.Close()
		h.f = nil
	}
}

// openListed opens base, a name in the directory dir, as openNonBlocking
// does, but as a plain descriptor read by read(2) rather than an *os.File:
// an *os.File first tries to add every file it opens to the runtime's
// poller, an epoll_ctl that fails for every regular file, and costs more
// to set up and close than a push of small files spends on some of them.
// O_NOFOLLOW keeps the open in dir; a name that is a link (a link the
// push dereferences, or one swapped in) is opened through dir's os.Root
// instead, which resolves it inside the tree, and the caller's check that
// the file is the one the walk listed decides.
func openListed(dir *os.Root, h *dirHandle, base string) (fs.File, error) {
	if h.f == nil {
		f, err := dir.Open(".")
		if err != nil {
			return nil, err
		}
		h.f = f
	}
	conn, err := h.f.SyscallConn()
	if err != nil {
		return openNonBlocking(dir, base)
	}
	fd := -1
	var openErr error
	if err := conn.Control(func(dirFD uintptr) {
		for {
			fd, openErr = syscall.Openat(int(dirFD), base, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
			if openErr != syscall.EINTR {
				return
			}
		}
	}); err != nil {
		return openNonBlocking(dir, base)
	}
	switch {
	case openErr == syscall.ELOOP:
		return openNonBlocking(dir, base)
	case openErr != nil:
		return nil, &fs.PathError{Op: "openat", Path: base, Err: openErr}
	}
	return &plainFile{fd: fd, name: base}, nil
}

// plainFile is a file read by read(2) on its descriptor.
type plainFile struct {
	fd   int
	name string
}

func (f *plainFile) Read(p []byte) (int, error) {
	if f.fd < 0 {
		return 0, fs.ErrClosed
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		n, err := syscall.Read(f.fd, p)
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return 0, &fs.PathError{Op: "read", Path: f.name, Err: err}
		case n == 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

func (f *plainFile) Stat() (fs.FileInfo, error) {
	if f.fd < 0 {
		return nil, fs.ErrClosed
	}
	info := &plainInfo{name: f.name}
	for {
		err := syscall.Fstat(f.fd, &info.st)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "stat", Path: f.name, Err: err}
		}
		return info, nil
	}
}

func (f *plainFile) Close() error {
	if f.fd < 0 {
		return fs.ErrClosed
	}
	fd := f.fd
	f.fd = -1
	if err := syscall.Close(fd); err != nil && !errors.Is(err, syscall.EINTR) {
		return &fs.PathError{Op: "close", Path: f.name, Err: err}
	}
	return nil
}

// plainInfo is what fstat(2) says of a plainFile, as os.Stat would say it.
type plainInfo struct {
	name string
	st   syscall.Stat_t
}

func (i *plainInfo) Name() string       { return i.name }
func (i *plainInfo) Size() int64        { return i.st.Size }
func (i *plainInfo) IsDir() bool        { return i.Mode().IsDir() }
func (i *plainInfo) ModTime() time.Time { return time.Unix(i.st.Mtim.Unix()) }
func (i *plainInfo) Sys() any           { return &i.st }

// Mode is the mode as package os makes it of the same stat_t.
func (i *plainInfo) Mode() fs.FileMode {
	m := fs.FileMode(i.st.Mode & 0o777)
	switch i.st.Mode & syscall.S_IFMT {
	case syscall.S_IFBLK:
		m |= fs.ModeDevice
	case syscall.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case syscall.S_IFDIR:
		m |= fs.ModeDir
	case syscall.S_IFIFO:
		m |= fs.ModeNamedPipe
	case syscall.S_IFLNK:
		m |= fs.ModeSymlink
	case syscall.S_IFSOCK:
		m |= fs.ModeSocket
	}
	if i.st.Mode&syscall.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if i.st.Mode&syscall.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if i.st.Mode&syscall.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// SameFile reports whether other, a FileInfo of package os (as a walk of
// the tree lists it), describes this very file: the same device and
// inode, as os.SameFile compares them (layer's sameFile asks).
func (i *plainInfo) SameFile(other fs.FileInfo) bool {
	st, ok := other.Sys().(*syscall.Stat_t)
	return ok && st.Dev == i.st.Dev && st.Ino == i.st.Ino
}
