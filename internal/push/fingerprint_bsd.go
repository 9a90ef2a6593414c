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
	b, ok := appendIdentity(nil, info)
	return string(b), ok
}

// appendIdentity appends fileIdentity to b. (The types of the fields
// differ between these systems; fmt prints each as it is.)
func appendIdentity(b []byte, info fs.FileInfo) ([]byte, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return b, false
	}
	return fmt.Appendf(b, "%d.%d %d.%d %d %d", st.Mtimespec.Sec, st.Mtimespec.Nsec, st.Ctimespec.Sec, st.Ctimespec.Nsec, st.Ino, st.Dev), true
}
