package main

import (
	"testing"
	"time"
)

// Each job's floor is the largest of its CPU work over the cores, its
// network transfer and its disk writes, and names which one bounds it.
func TestJobFloorIsTheLargestBound(t *testing.T) {
	ds := &dataset{bytes: 100e6}
	f := &floors{
		cpu:   cpuRates{sha1: 500e6, gzip: 50e6, zstd: 100e6, inflate: 200e6, unzstd: 400e6, zstdRat: 0.5},
		layer: 50e6, get: 1000e6, put: 10e6, diskWrite: 2 * time.Second, cores: 2,
	}
	// push: CPU 2×0.2 + 2 + 2×0.1 = 2.6 s, over 2 cores 1.3 s; network 5 s.
	if fl, _ := f.jobFloor(ds, jobPush); fl.boundBy != "network" || fl.time != 5*time.Second {
		t.Errorf("push floor = %v by %s, want 5s by network", fl.time, fl.boundBy)
	}
	// push to a layout: no network, CPU 2.5 s on one core.
	if fl, _ := f.jobFloor(ds, jobLayoutGMP1); fl.boundBy != "CPU" || fl.time != 2500*time.Millisecond {
		t.Errorf("layout floor = %v by %s, want 2.5s by CPU", fl.time, fl.boundBy)
	}
	// pull: CPU (0.5 + 0.2 + 0.1) / 2 = 0.4 s, network 0.05 s, disk 2 s.
	if fl, _ := f.jobFloor(ds, jobPull); fl.boundBy != "disk" || fl.time != 2*time.Second {
		t.Errorf("pull floor = %v by %s, want 2s by disk", fl.time, fl.boundBy)
	}
	if _, has := f.jobFloor(ds, jobLs); has {
		t.Error("ls has a floor")
	}
}

func TestParseLevels(t *testing.T) {
	if l, err := parseLevels("all"); err != nil || len(l) != 13 {
		t.Errorf("all = %v, %v", l, err)
	}
	if l, err := parseLevels("1, zstd:best"); err != nil || len(l) != 2 {
		t.Errorf("1, zstd:best = %v, %v", l, err)
	}
	for _, bad := range []string{"0", "best", "zstd:9"} {
		if _, err := parseLevels(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
