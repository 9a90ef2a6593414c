//go:build unix

package extract

import (
	"bytes"
	"io/fs"
	"os"
	"strconv"
	"syscall"
)

// readUmask reads the process umask: from /proc/self/status where it is
// shown (Linux 4.7 and later), else by setting it and setting it back.
func readUmask() fs.FileMode {
	if m, ok := umaskFromProc(); ok {
		return m
	}
	return umaskBySetting()
}

func umaskFromProc() (fs.FileMode, bool) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for line := range bytes.Lines(status) {
		if v, ok := bytes.CutPrefix(line, []byte("Umask:")); ok {
			m, err := strconv.ParseUint(string(bytes.TrimSpace(v)), 8, 32)
			return fs.FileMode(m) & fs.ModePerm, err == nil
		}
	}
	return 0, false
}

// umaskBySetting is the only portable way. Files another goroutine creates
// in between get the strictest mask rather than none, and it is read once,
// before an extraction makes files.
func umaskBySetting() fs.FileMode {
	old := syscall.Umask(0o077)
	syscall.Umask(old)
	return fs.FileMode(old) & fs.ModePerm
}
