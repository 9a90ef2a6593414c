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

// With the registry and the kernel on the same cores, a job's bound is
// the sum of their CPU and the job's own over the cores, never below its
// floor, and unknown without CPU times.
func TestSharedFloorSumsWhatSharesTheCores(t *testing.T) {
	ds := &dataset{bytes: 100e6}
	f := &floors{
		cpu:   cpuRates{sha1: 500e6, gzip: 50e6, zstd: 100e6, inflate: 200e6, unzstd: 400e6, zstdRat: 0.5},
		layer: 50e6, get: 1000e6, put: 100e6, diskWrite: time.Second, cores: 2,
		shared: sharedCPU{get: 300 * time.Millisecond, put: time.Second, diskWrite: 1500 * time.Millisecond, diskRead: 500 * time.Millisecond},
	}
	// push: own CPU 2.6 s less the registry's digest of the layer (0.1 s,
	// in the PUT's CPU), plus the PUT 1 s and the reads 0.5 s: 4 s on 2.
	if fl, _ := f.jobFloor(ds, jobPush); fl.time != 1300*time.Millisecond || fl.shared != 2*time.Second {
		t.Errorf("push: floor %v, shared %v; want 1.3s, 2s", fl.time, fl.shared)
	}
	// pull: own CPU 0.8 s, the GET 0.3 s, the writes 1.5 s: 2.6 s on 2,
	// above its 1 s disk floor.
	if fl, _ := f.jobFloor(ds, jobPull); fl.time != time.Second || fl.shared != 1300*time.Millisecond {
		t.Errorf("pull: floor %v, shared %v; want 1s, 1.3s", fl.time, fl.shared)
	}
	// A warm pull with writes cheaper than its floor keeps the floor.
	f.shared.diskWrite = 100 * time.Millisecond
	if fl, _ := f.jobFloor(ds, jobPullWarm); fl.shared != fl.time {
		t.Errorf("warm pull: shared %v below its floor %v", fl.shared, fl.time)
	}
	f.shared = sharedCPU{}
	if fl, _ := f.jobFloor(ds, jobPull); fl.shared != 0 {
		t.Errorf("pull without CPU times: shared %v, want unknown (0)", fl.shared)
	}
}
