package cache

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// A layer record reads back as written; one filed under another key, or
// of another kind, is a miss and removed; Info lists layer records and
// Clear removes them.
func TestLayerRecords(t *testing.T) {
	dir := t.TempDir()
	c := openCache(t, dir)
	desc := ocispec.Descriptor{
		MediaType:   ocispec.MediaTypeImageLayerGzip,
		Digest:      digest.FromString("layer"),
		Size:        42,
		Annotations: map[string]string{"containerd.io/snapshot/stargz/toc.digest": digest.FromString("toc").String()},
	}
	diffID := digest.FromString("tar")
	must(t, c.PutLayer("group-a", desc, diffID))
	got, gotDiffID, ok := c.Layer("group-a")
	if !ok || got.Digest != desc.Digest || got.Size != 42 || gotDiffID != diffID ||
		got.Annotations["containerd.io/snapshot/stargz/toc.digest"] != desc.Annotations["containerd.io/snapshot/stargz/toc.digest"] {
		t.Fatalf("read back %+v %s %v", got, gotDiffID, ok)
	}
	if _, _, _, ok := c.Fingerprint("group-a"); ok {
		t.Fatal("a layer record was read as a fingerprint")
	}

	// group-a's record copied to group-b's name.
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(layerPath("group-a"))))
	must(t, err)
	planted := filepath.Join(dir, filepath.FromSlash(layerPath("group-b")))
	must(t, os.WriteFile(planted, data, 0o600))
	if _, _, ok := c.Layer("group-b"); ok {
		t.Fatal("a record filed under another key was read")
	}
	if exists(planted) {
		t.Fatal("the misfiled record was kept")
	}
	// A fingerprint record under a layer's name.
	writeJSON(t, planted, treeRecord{Kind: KindFingerprint, Key: "group-b", Digest: desc.Digest, MediaType: desc.MediaType, Size: 1, Recorded: time.Now()})
	if _, _, ok := c.Layer("group-b"); ok {
		t.Fatal("a fingerprint record was read as a layer record")
	}
	if err := c.PutLayer("group-c", desc, "not-a-digest"); err == nil {
		t.Fatal("a record with an invalid diffID was written")
	}

	info, err := c.Info()
	must(t, err)
	layers := 0
	for _, e := range info.Entries {
		if e.Kind == KindLayer {
			layers++
			if e.Key != "group-a" || e.Digest != desc.Digest {
				t.Errorf("listed %+v", e)
			}
		}
	}
	if layers != 1 {
		t.Fatalf("Info listed %d layer records, want 1", layers)
	}
	must(t, c.Clear())
	if _, _, ok := c.Layer("group-a"); ok {
		t.Fatal("Clear kept a layer record")
	}
}
