package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// The split's first push and its `--layers 1` twin alternate run by run,
// each starting every other run, and the ratio printed is the median of
// the runs' own ratios, not a ratio of medians.
func TestPairAlternatesAndRatiosArePaired(t *testing.T) {
	b := &bench{ctx: context.Background(), runs: 3}
	ds := &dataset{datasetSpec: datasetSpec{name: "d"}}
	var order []string
	wall := map[string][]time.Duration{
		jobPushLayersAuto: {120, 90, 200},
		jobPushLayersOne:  {100, 100, 250},
	}
	res := b.pair(ds, jobPushLayersAuto, jobPushLayersOne, func(job string, run int) (sample, error) {
		order = append(order, layersMode(job))
		return sample{wall: wall[job][run-1] * time.Millisecond}, nil
	})
	if got := strings.Join(order, ","); got != "auto,1,1,auto,auto,1" {
		t.Fatalf("order %s, want auto,1,1,auto,auto,1", got)
	}
	pulls := b.pair(ds, jobPullLayersAuto, jobPullLayersOne, func(job string, run int) (sample, error) {
		return sample{wall: 100 * time.Millisecond}, nil
	})
	// Ratios 1.2, 0.9, 0.8: median 0.9, where the medians' ratio says
	// 120 ÷ 100.
	got := pairedRatios(append(res, pulls...))
	if !strings.Contains(got, "push **0.90×**") || !strings.Contains(got, "pull **1.00×**") {
		t.Fatalf("paired ratios %q", got)
	}
	if pairedRatios(res) != "" {
		t.Fatal("a missing pull row still printed ratios")
	}
}
