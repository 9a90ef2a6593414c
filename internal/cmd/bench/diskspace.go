package main

import (
	"errors"
	"fmt"
	"strings"
)

// errNoStatfs: free space cannot be read on this system; the check is skipped.
var errNoStatfs = errors.New("free space unknown on this system")

// pullsPerRun bounds the trees blobber alone pulls in one run of a
// dataset beyond the pull every tool makes: warm cache (two), after a cat,
// of the zstd push, and the floors' tree written to measure the disk.
const pullsPerRun = 5

// diskNeed is what one filesystem must have free, by use.
type diskNeed struct{ data, registry, scratch int64 }

// checkDiskSpace fails early, before anything is generated or pushed, when
// the datasets cannot fit. Under dataDir, each dataset not yet generated
// needs its size. Under work, the registry keeps one copy of every dataset
// per tool until the end (an upper bound: its blobs are compressed), and
// the biggest dataset needs room for two more at once: a pulled tree and
// blobber's cache of its layer (crane's and oras's temporary tars take
// less). Pulled trees, caches and tars are removed after each run, except
// the trees of many files, kept to the end (bench.discard): at most
// pullsPerRun of them per tool and run, plus blobber's warm-cache pulls.
func checkDiskSpace(dataDir, work string, specs []datasetSpec, tools, runs int) error {
	var onData, onWork diskNeed
	var kept int64
	for _, s := range specs {
		if !generated(dataDir, s) {
			onData.data += s.disk
		}
		onWork.registry += int64(tools) * s.disk
		onWork.scratch = max(onWork.scratch, 2*s.disk)
		if s.keepPulls {
			kept += int64(tools+pullsPerRun) * int64(runs) * s.disk
		}
	}
	onWork.scratch += kept
	dataFree, dataDev, err := freeSpace(dataDir)
	if err != nil {
		return skipUnknown(err)
	}
	workFree, workDev, err := freeSpace(work)
	if err != nil {
		return skipUnknown(err)
	}
	if dataDev == workDev {
		both := diskNeed{onData.data, onWork.registry, onWork.scratch}
		return both.check(dataDir+" and "+work+" (one filesystem)", dataFree)
	}
	return errors.Join(onData.check(dataDir, dataFree), onWork.check(work, workFree))
}

func skipUnknown(err error) error {
	if errors.Is(err, errNoStatfs) {
		logf("not checking free disk space: %v", err)
		return nil
	}
	return fmt.Errorf("checking free disk space: %w", err)
}

func (n diskNeed) check(where string, free int64) error {
	total := n.data + n.registry + n.scratch
	if free >= total {
		return nil
	}
	var parts []string
	for _, p := range []struct {
		what  string
		bytes int64
	}{{"datasets to generate", n.data}, {"registry storage", n.registry}, {"pulled trees and caches", n.scratch}} {
		if p.bytes > 0 {
			parts = append(parts, fmt.Sprintf("%s %s", p.what, fmtGiB(p.bytes)))
		}
	}
	return fmt.Errorf("not enough disk space in %s: %s free, the datasets need up to %s (%s); "+
		"free some, or point XDG_CACHE_HOME (datasets) or TMPDIR (registry, pulls) at a bigger disk",
		where, fmtGiB(free), fmtGiB(total), strings.Join(parts, ", "))
}

func fmtGiB(n int64) string { return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30)) }
