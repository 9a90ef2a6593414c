package blobber_test

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"testing"

	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	ta "github.com/blobber-dev/blobber/internal/testartifact"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// A manifest that marks its config as holding the layers' tables of
// contents but misstates the config's size never has that size make a
// buffer: a negative size is refused as a malformed manifest, and one past
// the TOC limit is not read (the layers' own tails are).
func TestLayersIndexConfigSizeClaims(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	a, err := ta.NewLayer(ta.File("a.txt", "alpha\n", 0o644))
	testtree.Must(t, err)
	b, err := ta.NewLayer(ta.File("b.txt", "bravo\n", 0o644))
	testtree.Must(t, err)
	for name, size := range map[string]int64{"negative": -1, "huge": 1 << 40} {
		refused := size < 0
		t.Run(name, func(t *testing.T) {
			ref := reg.Host() + "/index/size-" + name
			repo, err := remote.NewRepository(ref)
			testtree.Must(t, err)
			repo.PlainHTTP = true
			// The layers and a config pushed as usual; then a manifest
			// that misstates the config's size.
			honest, err := ta.PushLayersWithConfig(ctx, repo, "honest", nil, nil, a, b)
			testtree.Must(t, err)
			rc, err := repo.Fetch(ctx, honest)
			testtree.Must(t, err)
			var m ocispec.Manifest
			testtree.Must(t, json.NewDecoder(rc).Decode(&m))
			rc.Close()
			m.Versioned = specs.Versioned{SchemaVersion: 2}
			m.Config.Size = size
			m.Config.Annotations = map[string]string{"dev.blobber.config.layer-tocs": "1"}
			raw, err := json.Marshal(m)
			testtree.Must(t, err)
			if _, err := ta.PushManifest(ctx, repo, "v1", raw); err != nil {
				t.Skipf("the registry refuses the manifest: %v", err)
			}
			img, err := newClient(t).Open(ctx, ref+":v1")
			if refused {
				if !errors.Is(err, blobber.ErrNotEStargz) {
					t.Fatalf("opened a manifest whose config is %d bytes: %v", size, err)
				}
				return
			}
			testtree.Must(t, err)
			defer img.Close()
			for name, want := range map[string]string{"a.txt": "alpha\n", "b.txt": "bravo\n"} {
				got, err := fs.ReadFile(img, name)
				testtree.Must(t, err)
				if string(got) != want {
					t.Errorf("%s: %q, want %q", name, got, want)
				}
			}
		})
	}
}
