package main

import (
	"io"
	"os"
	"path/filepath"
	"time"
)

// sharedCPU is the CPU time this process spent in each of the floors'
// transfers and tree walks. The registry and its counting proxy run in
// this process, so a GET's or PUT's CPU is the registry's serving, the
// proxy's copy and the client's socket reads together; the tree's CPU is
// the kernel's creates and writes (or opens and reads). Zero where the
// platform gives no CPU times.
type sharedCPU struct {
	get, put, diskWrite, diskRead time.Duration
}

// cpuOf runs fn and returns what it returns with this process's CPU time
// during it.
func cpuOf(fn func() (time.Duration, error)) (wall, cpu time.Duration, err error) {
	before := ownCPU()
	wall, err = fn()
	return wall, ownCPU() - before, err
}

// sharedFloor is a job's lower bound when all it needs shares the
// machine's cores, as it does in this benchmark: the job's own CPU work
// (cpu, seconds on one core), the registry's side of its transfers and
// the kernel's side of its files, summed and divided by the cores. It is
// never below the job's floor; zero when the CPU times are unknown.
func (f *floors) sharedFloor(ds *dataset, job string, cpu float64, fl floor) time.Duration {
	s := f.shared
	if s.get == 0 || s.put == 0 || s.diskWrite == 0 || s.diskRead == 0 {
		return 0
	}
	cores := float64(f.cores)
	// The PUT's CPU includes the registry's digest of the layer, which
	// cpu counts once already for a push.
	registryHash := float64(f.layer) / f.cpu.sha1
	var extra time.Duration
	switch job {
	case jobPush, jobPushGMP1:
		cpu -= registryHash
		extra = s.put + s.diskRead
	case jobPushZstd:
		zsLayer := float64(ds.bytes) * f.cpu.zstdRat
		cpu -= zsLayer / f.cpu.sha1
		extra = time.Duration(float64(s.put)*zsLayer/float64(f.layer)) + s.diskRead
	case jobLayout, jobLayoutGMP1:
		extra = s.diskRead
	case jobPull:
		extra = s.get + s.diskWrite
	case jobPullZstd:
		zsLayer := float64(ds.bytes) * f.cpu.zstdRat
		extra = time.Duration(float64(s.get)*zsLayer/float64(f.layer)) + s.diskWrite
	case jobPullWarm:
		extra = s.diskWrite
	default:
		return 0
	}
	if job == jobPushGMP1 || job == jobLayoutGMP1 {
		cores = 1
	}
	sum := time.Duration((cpu*float64(time.Second) + float64(extra)) / cores)
	return max(sum, fl.time)
}

// timeDiskRead opens and reads every file of ds from where it lies, as a
// push must (the page cache is warm after the floors' push): the
// kernel's side of a push's reads.
func timeDiskRead(ds *dataset) (time.Duration, error) {
	names := ds.sortedNames()
	buf := make([]byte, 256*kiB)
	start := time.Now()
	for _, n := range names {
		f, err := os.Open(filepath.Join(ds.dir, filepath.FromSlash(n)))
		if err != nil {
			return 0, err
		}
		for {
			_, err = f.Read(buf)
			if err != nil {
				break
			}
		}
		f.Close()
		if err != io.EOF {
			return 0, err
		}
	}
	return time.Since(start), nil
}
