package blobber_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// A layer record that is well formed and filed under its group's key, but
// names the layer of another group, is refused once: the push builds the
// group's layer and records it in its place, so the next push reuses every
// layer and refuses nothing.
func TestPushLayersRefusedRecordIsReplaced(t *testing.T) {
	f := newReuseFixture(t)
	fps, err := blobber.LayerFingerprints(os.DirFS(f.src))
	testtree.Must(t, err)
	record := func(fp string) string {
		sum := sha256.Sum256([]byte(fp))
		return filepath.Join(f.cacheDir, "trees", "layers", hex.EncodeToString(sum[:])+".json")
	}
	other, err := os.ReadFile(record(fps[1]))
	testtree.Must(t, err)
	var rec map[string]any
	testtree.Must(t, json.Unmarshal(other, &rec))
	rec["key"] = fps[0]
	lie, err := json.Marshal(rec)
	testtree.Must(t, err)
	testtree.Must(t, os.WriteFile(record(fps[0]), lie, 0o600))

	refused := func() int64 { return blobber.ClientCounts(f.c).RefusedRecords }
	before := refused()
	desc, built, _, _ := f.pushCounted(t, "v2")
	if n := refused() - before; n != 1 || built != 1 {
		t.Fatalf("refused %d records and built %d layers; want 1 and 1", n, built)
	}
	f.check(t, "v2", desc)
	before = refused()
	desc, built, reused, _ := f.pushCounted(t, "v3")
	if n := refused() - before; n != 0 || built != 0 || reused != int64(f.layers) {
		t.Fatalf("the next push refused %d records, built %d layers and reused %d of %d: the refused record was kept", n, built, reused, f.layers)
	}
	if desc.Digest != f.v1.Digest {
		t.Fatalf("pushed %s; the tree is %s", desc.Digest, f.v1.Digest)
	}
}
