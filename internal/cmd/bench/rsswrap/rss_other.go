//go:build !linux

package main

import (
	"os"
	"os/exec"
)

// maxRSS is only measured on Linux.
func maxRSS(*os.ProcessState) int64 { return 0 }

func setParentDeathSignal(*exec.Cmd) {}
