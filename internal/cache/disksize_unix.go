//go:build unix

package cache

import (
	"io/fs"
	"syscall"
)

// diskSize counts allocated blocks, which is what a sparse partial blob
// costs; its apparent size would overstate it.
func diskSize(fi fs.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Blocks * 512
	}
	return fi.Size()
}
