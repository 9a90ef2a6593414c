package blobber

import (
	"bytes"
	"runtime"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
)

func TestReadConfigSummary(t *testing.T) {
	a, b := digest.FromString("a"), digest.FromString("b")
	cfg := `{"created":"2026-01-01T00:00:00Z","architecture":"arm64","os":"linux","variant":"v8",` +
		`"config":{"Labels":{"x":"y"},"Env":["A=1"]},"history":[{},{"empty_layer":true}],` +
		`"rootfs":{"type":"layers","diff_ids":["` + a.String() + `","` + b.String() + `"]}}`
	s, err := readConfigSummary([]byte(cfg), 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := FormatPlatform(s.platform); got != "linux/arm64/v8" {
		t.Errorf("platform %q, want linux/arm64/v8", got)
	}
	if len(s.diffIDs) != 2 || s.diffIDs[0] != a || s.diffIDs[1] != b {
		t.Errorf("diffIDs %v, want [%s %s]", s.diffIDs, a, b)
	}
	for name, bad := range map[string]string{
		"more diffIDs than layers": `{"rootfs":{"diff_ids":["` + a.String() + `","` + b.String() + `","` + a.String() + `"]}}`,
		"not an object":            `["os","linux"]`,
		"os not a string":          `{"os":{"name":"linux"}}`,
		"nested past the bound":    `{"x":` + strings.Repeat("[", maxSkippedDepth+1) + strings.Repeat("]", maxSkippedDepth+1) + `}`,
		"truncated":                `{"os":"linux","history":[{}`,
	} {
		if _, err := readConfigSummary([]byte(bad), 2); err == nil {
			t.Errorf("%s: read without an error", name)
		}
	}
}

// A config of millions of empty values, as a hostile registry may serve
// (up to the TOC limit when it claims to hold a split push's TOCs), is
// read in memory that does not grow with it: decoded whole, it took over
// a hundred times its size.
func TestReadConfigSummaryMemoryDoesNotGrowWithTheConfig(t *testing.T) {
	var cfg bytes.Buffer
	cfg.WriteString(`{"os":"linux","architecture":"amd64","history":[{}`)
	for cfg.Len() < 8<<20 {
		cfg.WriteString(`,{}`)
	}
	cfg.WriteString(`],"rootfs":{"type":"layers","diff_ids":[]}}`)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s, err := readConfigSummary(cfg.Bytes(), 1)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if s.platform.OS != "linux" {
		t.Fatalf("platform %+v", s.platform)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Fatalf("reading a config of %d bytes allocated %d bytes", cfg.Len(), alloc)
	}
}
