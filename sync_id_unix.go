//go:build unix

package blobber

import (
	"io/fs"
	"syscall"
)

// fileIdentity is the device and inode of what info describes: a file
// replaced by another (an editor's save, a copy put in its place) gets
// another inode even when its size and time are kept.
func fileIdentity(info fs.FileInfo) (dev, ino uint64, ok bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return uint64(st.Dev), uint64(st.Ino), true //nolint:unconvert // Dev's type differs between systems
}
