package main

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// The machine may be shared (other builds and tests): the benchmark waits
// for it to be quiet before each run and records how much CPU time other
// processes used during each run.

// machineBusy returns the CPU time all processes have used since boot,
// from /proc/stat (0 where there is no /proc).
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	if len(f) < 8 || f[0] != "cpu" {
		return 0
	}
	var ticks int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 || i >= 8 { // idle, iowait; guest time is already in user
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * (time.Second / 100) // USER_HZ
}

// cpuMeter measures the CPU time used by processes other than the
// benchmark (its registry, proxy and children) over an interval.
type cpuMeter struct{ busy, ours time.Duration }

func startCPUMeter() cpuMeter { return cpuMeter{machineBusy(), ownCPU()} }

func (m cpuMeter) others() time.Duration {
	d := (machineBusy() - m.busy) - (ownCPU() - m.ours)
	return max(0, d)
}

// waitQuiet waits, up to limit, until other processes use less than a
// quarter of a core over half a second. It reports whether they did.
func waitQuiet(limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for {
		m := startCPUMeter()
		time.Sleep(500 * time.Millisecond)
		if m.others() < 125*time.Millisecond {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
