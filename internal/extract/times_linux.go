package extract

import (
	"math"
	"os"
	"syscall"
	"time"
	"unsafe"
)

var (
	minNano = time.Unix(0, math.MinInt64)
	maxNano = time.Unix(0, math.MaxInt64)
)

// lchtimes sets the times of name without following it if it is a symlink.
// os.Root has no such call, so it uses utimensat(2) relative to the parent
// directory opened through the root, which also keeps it inside the root.
func lchtimes(root *os.Root, name string, t time.Time) error {
	// Timespec field types differ between architectures; going through
	// nanoseconds is portable, at the cost of clamping absurd times.
	if t.Before(minNano) {
		t = minNano
	} else if t.After(maxNano) {
		t = maxNano
	}
	ts := syscall.NsecToTimespec(t.UnixNano())
	times := [2]syscall.Timespec{ts, ts}
	dir, base := splitName(name)
	p, err := syscall.BytePtrFromString(base)
	if err != nil {
		return err
	}
	f, err := root.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall6(syscall.SYS_UTIMENSAT, fd,
			uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(&times[0])),
			atSymlinkNofollow, 0, 0)
	}); err != nil {
		return err
	}
	if errno != 0 {
		return &os.PathError{Op: "utimensat", Path: name, Err: errno}
	}
	return nil
}

// atSymlinkNofollow is AT_SYMLINK_NOFOLLOW, which package syscall does not
// export; its value is the same on every Linux architecture.
const atSymlinkNofollow = 0x100
