package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/blobber-dev/blobber/internal/registrytest"
	ta "github.com/blobber-dev/blobber/internal/testartifact"
)

// JSON output escapes what encoding/json leaves raw and a terminal acts on
// (C1 controls, DEL, bidirectional overrides), and still decodes to the
// names as they are.
func TestJSONOutputEscapesInvisibleCharacters(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	t.Setenv("BLOBBER_CACHE_DIR", filepath.Join(t.TempDir(), "cache"))
	t.Setenv("DOCKER_CONFIG", filepath.Join(t.TempDir(), "docker"))
	var entries []ta.Entry
	for _, n := range hostileNames {
		entries = append(entries, ta.File(n, "x", 0o644))
	}
	ref := pushHostile(t, ctx, reg, "jsonnames", entries...)

	out, errOut, code := runCLI(t, "ls", "--format", "json", ref)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := checkLines(t, out)
	var names []string
	for _, l := range lines {
		var e lsEntry
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		names = append(names, e.Path)
	}
	for _, n := range hostileNames {
		if !slices.Contains(names, n) {
			t.Errorf("%q not in the JSON as it is: %q", n, names)
		}
	}
	if !strings.Contains(out, `\u202e`) || !strings.Contains(out, `\u009b`) {
		t.Errorf("bidi override or CSI not escaped:\n%s", out)
	}

	// A template's output is text: names in it are quoted as ls quotes them.
	out, errOut, code = runCLI(t, "ls", "--format", "{{.path}}", ref)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines = checkLines(t, out)
	for _, n := range hostileNames {
		if !containsLine(lines, printable(n)) {
			t.Errorf("%q not printed quoted by a template:\n%s", n, out)
		}
	}
}
