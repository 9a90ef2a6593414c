package cache

import (
	"os"
	"path/filepath"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Fingerprints and shapes are records of their own kinds: neither is read
// as the other or as a tag, a record of another kind planted under one's
// name is a miss (and removed), and the tag records that older caches kept
// them in are a miss, never misread.
func TestTreeRecordsKeepTheirKinds(t *testing.T) {
	dir := t.TempDir()
	c := openCache(t, dir)
	m := digest.FromString("manifest")
	const key = "0123abcd"

	// What an older cache holds: both kinds as tag records keyed "build:".
	must(t, c.PutTag("build:"+key, m, ocispec.MediaTypeImageManifest, 10))
	must(t, c.PutTag("build:shape:"+key, m, ocispec.MediaTypeImageManifest, 10))
	if _, _, _, ok := c.Fingerprint(key); ok {
		t.Fatal("an old tag record was read as a fingerprint")
	}
	if c.HasShape(key) {
		t.Fatal("an old tag record was read as a shape")
	}

	must(t, c.PutFingerprint(key, m, ocispec.MediaTypeImageManifest, 10))
	if c.HasShape(key) {
		t.Fatal("a fingerprint was read as a shape")
	}
	if _, _, _, ok := c.Tag(key, -1); ok {
		t.Fatal("a fingerprint was read as a tag")
	}
	got, _, size, ok := c.Fingerprint(key)
	if !ok || got != m || size != 10 {
		t.Fatalf("Fingerprint = %s, %d, %v; want %s, 10, true", got, size, ok, m)
	}

	// A shape record planted where the fingerprint is filed is refused.
	must(t, c.PutShape(key, m, ocispec.MediaTypeImageManifest, 10))
	shapeFile := filepath.Join(dir, filepath.FromSlash(treePath(KindShape, key)))
	fpFile := filepath.Join(dir, filepath.FromSlash(treePath(KindFingerprint, key)))
	data, err := os.ReadFile(shapeFile)
	must(t, err)
	must(t, os.WriteFile(fpFile, data, 0o600))
	if _, _, _, ok := c.Fingerprint(key); ok {
		t.Fatal("a shape record filed as a fingerprint was read as one")
	}
	if exists(fpFile) {
		t.Fatal("the misfiled record was kept")
	}
	if !c.HasShape(key) {
		t.Fatal("the shape record was lost")
	}

	info, err := c.Info()
	must(t, err)
	if info.Trees != 0 || info.Shapes != 1 || info.Tags != 2 {
		t.Fatalf("Info counts %d trees, %d shapes, %d tags; want 0, 1, 2", info.Trees, info.Shapes, info.Tags)
	}
}
