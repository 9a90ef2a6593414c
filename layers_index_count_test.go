package blobber_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"runtime"
	"testing"

	"github.com/blobber-dev/blobber/internal/registrytest"
	ta "github.com/blobber-dev/blobber/internal/testartifact"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// A config's list of tails has one entry per layer: a config of millions
// of empty entries ("{}," is three bytes, an entry decoded some fifty)
// within the size limit must not be decoded whole before its count is
// checked. Open ignores it, reads the layers' own tails, and allocates
// about what the config weighs, not tens of times more.
func TestLayersIndexConfigEntryCount(t *testing.T) {
	reg := registrytest.Start(t)
	a, err := ta.NewLayer(ta.File("a.txt", "alpha\n", 0o644))
	testtree.Must(t, err)
	b, err := ta.NewLayer(ta.File("b.txt", "bravo\n", 0o644))
	testtree.Must(t, err)
	const configBytes = 8 << 20
	var entries bytes.Buffer
	entries.WriteString(`{"layers":[{}`)
	for entries.Len() < configBytes {
		entries.WriteString(`,{}`)
	}
	entries.WriteString(`]}`)
	ref := indexedLayers(t, reg.Host(), "count", []ta.Layer{a, b}, func([]map[string]any) any {
		return json.RawMessage(entries.Bytes())
	})

	c := newClient(t)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	img, err := c.Open(context.Background(), ref)
	runtime.ReadMemStats(&after)
	testtree.Must(t, err)
	defer img.Close()
	if got := after.TotalAlloc - before.TotalAlloc; got > 8*configBytes {
		t.Errorf("opening an artifact whose config is %d bytes allocated %d MiB", entries.Len(), got>>20)
	}
	for name, want := range map[string]string{"a.txt": "alpha\n", "b.txt": "bravo\n"} {
		got, err := fs.ReadFile(img, name)
		testtree.Must(t, err)
		if string(got) != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}
