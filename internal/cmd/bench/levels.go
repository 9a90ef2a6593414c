package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// allLevels are the levels --compression-levels all compares.
var allLevels = []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "zstd:fastest", "zstd:default", "zstd:better", "zstd:best"}

// parseLevels reads --compression-levels: gzip levels by number, zstd's
// as zstd:NAME, or all.
func parseLevels(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	if s == "all" {
		return allLevels, nil
	}
	levels := splitList(s)
	for _, l := range levels {
		known := false
		for _, a := range allLevels {
			known = known || a == l
		}
		if !known {
			return nil, fmt.Errorf("unknown compression level %q (want 1 to 9, zstd:fastest, zstd:default, zstd:better, zstd:best or all)", l)
		}
	}
	return levels, nil
}

// pushArgs are blobber's push flags for level.
func pushArgs(level string) []string {
	if name, ok := strings.CutPrefix(level, "zstd:"); ok {
		return []string{"--compression", "zstd", "--compression-level", name}
	}
	return []string{"--compression", "gzip", "--compression-level", level}
}

// datasetReport runs what cfg asks for on ds: the jobs and the floors,
// the floors alone, or the compression levels.
func (b *bench) datasetReport(ds *dataset, cfg config) string {
	if cfg.levels != nil {
		return b.levelTable(ds, cfg.levels)
	}
	r := dsResult{ds: ds}
	if !cfg.floorsOnly {
		r.results = b.runDataset(ds, cfg.tools)
	}
	if b.tools["blobber"] != nil {
		f, err := b.measureFloors(ds)
		if err != nil {
			msg := fmt.Sprintf("%s / floors: %v", ds.name, err)
			b.failures = append(b.failures, msg)
			logf("FAIL: %s", msg)
		}
		r.floors = f
	}
	if cfg.floorsOnly {
		return datasetHeading(ds) + "\n" + floorTable(r)
	}
	return table(r, cfg.tools)
}

// levelTable measures blobber's push (time, layer size) and pull of ds at
// each level: the trade-off the default level is chosen from.
func (b *bench) levelTable(ds *dataset, levels []string) string {
	t := b.tools["blobber"]
	var out strings.Builder
	out.WriteString(datasetHeading(ds))
	out.WriteString("\n\n| compression | level | push | push MB/s | layer | layer ÷ dataset | pull | pull MB/s |\n|---|---|--:|--:|--:|--:|--:|--:|\n")
	for _, level := range levels {
		key := "blobber-level-" + strings.ReplaceAll(level, ":", "-")
		var ref string
		push := b.repeat(ds, "push at "+level, "blobber", ds.bytes, func(run int) (sample, error) {
			ref = b.ref(ds, key, "push", run)
			return b.firstPush(ds, key, ref, func() (sample, error) {
				return b.measure(func() (usage, error) {
					return runCmd(b.command(t, nil, append(append([]string{"push"}, pushArgs(level)...), ds.dir, ref)...))
				})
			})
		})
		comp, name := "gzip", level
		if z, ok := strings.CutPrefix(level, "zstd:"); ok {
			comp, name = "zstd", z
		}
		if name == "5" || comp == "zstd" && name == "default" {
			name += " (default)"
		}
		if !ok(push) {
			fmt.Fprintf(&out, "| %s | %s | **FAILED** | | | | | |\n", comp, name)
			continue
		}
		size := b.layerSize(ref)
		pull := b.repeat(ds, "pull at "+level, "blobber", ds.bytes, func(run int) (sample, error) {
			return b.pull(ds, t, ref, run)
		})
		pushWall := medians(push.samples).wall
		pullCell, pullRate := "**FAILED**", ""
		if ok(pull) {
			w := medians(pull.samples).wall
			pullCell, pullRate = fmtDuration(w), fmt.Sprintf("%.1f", float64(ds.bytes)/1e6/w.Seconds())
		}
		fmt.Fprintf(&out, "| %s | %s | %s | %.1f | %s | %.3f | %s | %s |\n", comp, name, fmtDuration(pushWall),
			float64(ds.bytes)/1e6/pushWall.Seconds(), fmtBytes(size), float64(size)/float64(max(ds.bytes, 1)), pullCell, pullRate)
	}
	return out.String()
}

// layerSize is the size of ref's layers in the registry's storage (a
// split push has several), 0 when one cannot be read.
func (b *bench) layerSize(ref string) int64 {
	layers, err := b.stash.manifestLayers(b.ctx, ref)
	if err != nil || len(layers) == 0 {
		return 0
	}
	var total int64
	for _, l := range layers {
		info, err := os.Stat(filepath.Join(b.stash.blobDir(l), "data"))
		if err != nil {
			return 0
		}
		total += info.Size()
	}
	return total
}
