package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// dropStartupPages unmaps the executable's read-only pages (its code and
// constant data) from the process, for the kernel to map back only those
// used from now on.
//
// Package initialisation touches code and data all over a large binary,
// and the kernel maps the pages around each one touched (fault-around),
// so that a command starts with most of its executable in its resident
// set: clean pages of the page cache, which cost no copy but count in RSS
// as the heap does. Only read-only mappings of the executable that hold
// no page of their own (no "Anonymous" bytes: nothing was written to them
// before they became read-only, as relocations are) are dropped: for them
// MADV_DONTNEED only removes the mapping, and the next access maps the
// same page of the file again.
func dropStartupPages() {
	exe, err := os.Executable()
	if err != nil {
		return
	}
	for _, m := range cleanReadOnlyMappings(exe) {
		_, _, _ = unix.Syscall(unix.SYS_MADVISE, m.start, m.end-m.start, unix.MADV_DONTNEED)
	}
}

// mapping is a range of the process's addresses.
type mapping struct{ start, end uintptr }

// cleanReadOnlyMappings lists the mappings of the file path that the
// process cannot write and never wrote, from /proc/self/smaps.
func cleanReadOnlyMappings(path string) []mapping {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []mapping
	var cur mapping
	candidate := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if r, ok := addressRange(fields[0]); ok {
			// start-end perms offset dev inode path
			candidate = len(fields) >= 6 && fields[5] == path && !strings.Contains(fields[1], "w")
			cur = r
			continue
		}
		if candidate && fields[0] == "Anonymous:" {
			if len(fields) >= 2 && fields[1] == "0" {
				out = append(out, cur)
			}
			candidate = false
		}
	}
	return out
}

// addressRange parses smaps' "start-end" in hexadecimal.
func addressRange(s string) (mapping, bool) {
	start, end, ok := strings.Cut(s, "-")
	if !ok {
		return mapping{}, false
	}
	lo, err1 := strconv.ParseUint(start, 16, 64)
	hi, err2 := strconv.ParseUint(end, 16, 64)
	if err1 != nil || err2 != nil || hi <= lo {
		return mapping{}, false
	}
	return mapping{uintptr(lo), uintptr(hi)}, true
}
