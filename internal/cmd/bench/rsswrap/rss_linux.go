package main

import (
	"os"
	"os/exec"
	"syscall"
)

// maxRSS is the command's ru_maxrss, in KiB on Linux.
func maxRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss
	}
	return 0
}

// setParentDeathSignal kills the command if rsswrap dies.
func setParentDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
