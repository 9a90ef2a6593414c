package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// fuseAvailable is the [fuse] condition of scripts: whether /dev/fuse
// can be opened, which a FUSE mount needs.
func fuseAvailable() bool {
	f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// isMountPoint tells whether dir is a mount point in /proc/self/mountinfo.
func isMountPoint(ts *testscript.TestScript, dir string) bool {
	data, err := os.ReadFile("/proc/self/mountinfo")
	ts.Check(err)
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 4 && fields[4] == dir {
			return true
		}
	}
	return false
}

// cmdMounted (mounted DIR) succeeds when DIR is a mount point; with !,
// when it is not.
func cmdMounted(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: mounted DIR")
	}
	dir := ts.MkAbs(args[0])
	if got := isMountPoint(ts, dir); got == neg {
		ts.Fatalf("%s mounted: %v", dir, got)
	}
}

// cmdWaitMounted (wait-mounted DIR) waits until DIR is a mount point, and
// makes sure that it is not one when the script ends, whatever happens.
func cmdWaitMounted(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: wait-mounted DIR")
	}
	dir := ts.MkAbs(args[0])
	ts.Defer(func() {
		if isMountPoint(ts, dir) {
			_ = exec.Command("umount", "-l", dir).Run()
		}
	})
	for deadline := time.Now().Add(30 * time.Second); !isMountPoint(ts, dir); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			ts.Fatalf("%s is still not mounted after 30s", dir)
		}
	}
}

// cmdTermMount (term-mount DIR) sends SIGTERM to the blobber mount
// process serving DIR, found by its command line.
func cmdTermMount(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: term-mount DIR")
	}
	procs, err := filepath.Glob("/proc/[0-9]*/cmdline")
	ts.Check(err)
	for _, p := range procs {
		raw, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		argv := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
		if len(argv) < 3 || filepath.Base(argv[0]) != "blobber" || argv[1] != "mount" || argv[len(argv)-1] != args[0] {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		ts.Check(err)
		proc, err := os.FindProcess(pid)
		ts.Check(err)
		ts.Check(proc.Signal(syscall.SIGTERM))
		return
	}
	ts.Fatalf("no blobber mount process serves %s", args[0])
}
