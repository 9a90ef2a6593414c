package push

import (
	"io/fs"
	"strconv"
	"syscall"
)

// fileIdentity is what, besides name, mode and size, tells whether a file
// changed: modification and change times, inode and device.
func fileIdentity(info fs.FileInfo) (string, bool) {
	b, ok := appendIdentity(nil, info)
	return string(b), ok
}

// appendIdentity appends fileIdentity to b, as "%d.%d %d.%d %d %d" would
// print it, without a string per entry of a walk.
func appendIdentity(b []byte, info fs.FileInfo) ([]byte, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return b, false
	}
	b = strconv.AppendInt(b, int64(st.Mtim.Sec), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(st.Mtim.Nsec), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(st.Ctim.Sec), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(st.Ctim.Nsec), 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(st.Ino), 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(st.Dev), 10)
	return b, true
}
