//go:build unix

package cache

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// A record that a lookup refuses is removed there and then, whatever made
// it wrong, so that it is not read and refused again on every push: one
// another user owns or that is open to others, one that does not parse,
// one that names no valid digest, a symlink (removed itself: the file it
// points to, outside the cache, is left alone). The next good write puts
// a record back in its place.
func TestRefusedRecordsAreRemoved(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	c, err := Open(dir)
	must(t, err)
	defer c.Close()
	d := digest.FromString("x")
	desc := ocispec.Descriptor{MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Digest: d, Size: 1}
	kinds := []struct {
		name   string
		path   string
		put    func() error
		lookup func() bool
	}{
		{"layer", layerPath("fp"), func() error { return c.PutLayer("fp", desc, d) }, func() bool { _, _, ok := c.Layer("fp"); return ok }},
		{"fingerprint", treePath(KindFingerprint, "fp"), func() error { return c.PutFingerprint("fp", d, "m", 1) }, func() bool { _, _, _, ok := c.Fingerprint("fp"); return ok }},
		{"tag", tagPath("k"), func() error { return c.PutTag("k", d, "m", 1) }, func() bool { _, _, _, ok := c.Tag("k", time.Hour); return ok }},
		{"source", sourcePath(d.Encoded()), func() error { return c.AddSource(d, "registry.example/team/app") }, func() bool { return len(c.Sources(d)) > 0 }},
		{"manifest", manifestPath(d.Encoded()), func() error { return c.PutManifest(d, "m", []byte("x")) }, func() bool { _, _, ok := c.Manifest(d); return ok }},
	}
	outside := filepath.Join(t.TempDir(), "outside.json")
	damages := []struct {
		name   string
		root   bool
		damage func(t *testing.T, p string, good []byte)
	}{
		{"another user's", true, func(t *testing.T, p string, _ []byte) { must(t, os.Chown(p, nobody, nobody)) }},
		{"open to others", false, func(t *testing.T, p string, _ []byte) { must(t, os.Chmod(p, 0o644)) }},
		{"malformed", false, func(t *testing.T, p string, _ []byte) { must(t, os.WriteFile(p, []byte("{not json"), 0o600)) }},
		{"no valid digest", false, func(t *testing.T, p string, _ []byte) {
			must(t, os.WriteFile(p, []byte(`{"kind":"layer","key":"fp","digest":"sha256:00"}`), 0o600))
		}},
		{"symlink out of the cache", false, func(t *testing.T, p string, good []byte) {
			must(t, os.WriteFile(outside, good, 0o600))
			must(t, os.Remove(p))
			must(t, os.Symlink(outside, p))
		}},
	}
	for _, k := range kinds {
		for _, dm := range damages {
			t.Run(k.name+"/"+dm.name, func(t *testing.T) {
				if dm.root {
					needRoot(t)
				}
				p := filepath.Join(dir, k.path)
				must(t, k.put())
				good, err := os.ReadFile(p)
				must(t, err)
				dm.damage(t, p, good)
				if k.lookup() {
					t.Fatal("the damaged record was trusted")
				}
				if _, err := os.Lstat(p); !os.IsNotExist(err) {
					t.Fatalf("the refused record is still there (%v): every lookup reads and refuses it again", err)
				}
				if dm.name == "symlink out of the cache" {
					if kept, err := os.ReadFile(outside); err != nil || string(kept) != string(good) {
						t.Fatalf("the file the symlink pointed to, outside the cache, was touched: %v", err)
					}
				}
				must(t, k.put())
				if !k.lookup() {
					t.Fatal("a record written after the refused one was removed is not found")
				}
				must(t, os.Remove(p))
			})
		}
	}
}
