//go:build linux || darwin || freebsd

package main

import (
	"fmt"
	"syscall"
)

// freeSpace returns the bytes available to this user on dir's filesystem,
// and the filesystem's device number.
func freeSpace(dir string) (int64, uint64, error) {
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		return 0, 0, fmt.Errorf("statfs %s: %w", dir, err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(dir, &st); err != nil {
		return 0, 0, fmt.Errorf("stat %s: %w", dir, err)
	}
	return int64(fs.Bavail) * int64(fs.Bsize), uint64(st.Dev), nil
}
