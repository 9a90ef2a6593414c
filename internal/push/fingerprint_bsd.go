//go:build darwin || freebsd || netbsd

package push

import (
	"fmt"
	"io/fs"
	"syscall"
)

// fileIdentity is what, besides name, mode and size, tells whether a file
// changed: modification and change times, inode and device.
func fileIdentity(info fs.FileInfo) (string, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return "", false
	}
	return fmt.Sprintf("%d.%d %d.%d %d %d", st.Mtimespec.Sec, st.Mtimespec.Nsec, st.Ctimespec.Sec, st.Ctimespec.Nsec, st.Ino, st.Dev), true
}
