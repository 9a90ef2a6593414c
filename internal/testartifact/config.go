package testartifact

import (
	"context"
	"encoding/json"
	"fmt"

	digest "github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
)

// LayerTail is a layer blob's bytes from its TOC's first byte to its end
// (the compressed TOC and the footer).
func LayerTail(blob []byte) ([]byte, error) {
	off, err := TOCOffset(blob)
	if err != nil {
		return nil, err
	}
	return blob[off:], nil
}

// PushLayersWithConfig is PushLayers with extra top-level keys in the
// image config (each value as JSON renders it) and annotations on the
// manifest's config descriptor: a config that says anything, true or not,
// about the layers beside it.
func PushLayersWithConfig(ctx context.Context, t oras.Target, tag string, extra map[string]any, configAnnotations map[string]string, layers ...Layer) (ocispec.Descriptor, error) {
	cfg := map[string]any{
		"architecture": "amd64",
		"os":           "linux",
	}
	diffIDs := []digest.Digest{}
	descs := make([]ocispec.Descriptor, 0, len(layers))
	for i, l := range layers {
		desc := ocispec.Descriptor{MediaType: l.Desc.MediaType, Digest: digest.FromBytes(l.Blob), Size: int64(len(l.Blob))}
		if err := pushOnce(ctx, t, desc, l.Blob); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("pushing layer %d: %w", i, err)
		}
		diffIDs = append(diffIDs, l.DiffID)
		descs = append(descs, l.Desc)
	}
	cfg["rootfs"] = ocispec.RootFS{Type: "layers", DiffIDs: diffIDs}
	for k, v := range extra {
		cfg[k] = v
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	cfgDesc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromBytes(raw), Size: int64(len(raw))}
	if err := pushOnce(ctx, t, cfgDesc, raw); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("pushing config: %w", err)
	}
	cfgDesc.Annotations = configAnnotations
	m, err := json.Marshal(ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    cfgDesc,
		Layers:    descs,
	})
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return PushManifest(ctx, t, tag, m)
}
