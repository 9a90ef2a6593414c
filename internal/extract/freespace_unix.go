//go:build unix

package extract

import "golang.org/x/sys/unix"

// availableBytes is the free space of the file system holding path that an
// unprivileged user may use (statfs's f_bavail).
func availableBytes(path string) (uint64, bool) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, false
	}
	return uint64(st.Bavail) * uint64(st.Bsize), true
}
