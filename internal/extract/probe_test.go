package extract

import (
	"os"
	"path/filepath"
	"testing"
)

// On this machine's file system (case-sensitive, as Linux's are) the probe
// finds no folding, leaves nothing behind, and works for a directory that
// does not exist yet.
func TestProbeRulesLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	r, err := ProbeRules(filepath.Join(dir, "not", "yet"))
	if err != nil {
		t.Fatal(err)
	}
	if r.FoldCase || r.FoldNormalization {
		t.Errorf("rules %+v on a case-sensitive file system", r)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("probe left %v", entries)
	}
}
