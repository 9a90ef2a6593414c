//go:build linux || darwin || freebsd

package cache

import "golang.org/x/sys/unix"

// fileSystemSize is the size in bytes of the file system that holds dir.
func fileSystemSize(dir string) (int64, bool) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return int64(uint64(st.Blocks) * uint64(st.Bsize)), true
}
