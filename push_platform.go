package blobber

import (
	"context"
	"encoding/json"

	digest "github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"

	"github.com/blobber-dev/blobber/internal/target"
)

// pushManifests uploads a config and a manifest for each platform the push
// writes and tags what runtimes resolve: the one manifest, or, for several
// platforms, an image index of them (the manifests share the layer and
// differ only in their config). It returns the tagged descriptor and its
// bytes.
func (c *Client) pushManifests(ctx context.Context, t *target.Target, mnt *mounter, diffIDs []digest.Digest, layers []ocispec.Descriptor, po *pushOptions, tag string) (ocispec.Descriptor, []byte, error) {
	platforms := po.pushPlatforms()
	entries := make([]ocispec.Descriptor, 0, len(platforms))
	for _, p := range platforms {
		man, err := c.pushPlatformManifest(ctx, t, mnt, diffIDs, layers, po, p)
		if err != nil {
			return ocispec.Descriptor{}, nil, err
		}
		if len(platforms) == 1 {
			desc, err := oras.TagBytes(ctx, t.Store, ocispec.MediaTypeImageManifest, man, tag)
			if err != nil {
				return ocispec.Descriptor{}, nil, wrapf(err, "pushing manifest to %s:%s", t.Name, tag)
			}
			return desc, man, nil
		}
		desc, err := oras.PushBytes(ctx, t.Store, ocispec.MediaTypeImageManifest, man)
		if err != nil {
			return ocispec.Descriptor{}, nil, wrapf(err, "pushing the %s manifest to %s", FormatPlatform(p), t.Name)
		}
		desc.Platform = &p
		entries = append(entries, desc)
	}
	index, err := json.Marshal(ocispec.Index{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageIndex,
		ArtifactType: po.meta.artifactType,
		Manifests:    entries,
		Annotations:  po.meta.annotations,
	})
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	desc, err := oras.TagBytes(ctx, t.Store, ocispec.MediaTypeImageIndex, index, tag)
	if err != nil {
		return ocispec.Descriptor{}, nil, wrapf(err, "pushing image index to %s:%s", t.Name, tag)
	}
	return desc, index, nil
}

// pushPlatformManifest uploads the config for platform p and returns the
// manifest that names it (not yet uploaded).
func (c *Client) pushPlatformManifest(ctx context.Context, t *target.Target, mnt *mounter, diffIDs []digest.Digest, layers []ocispec.Descriptor, po *pushOptions, p ocispec.Platform) ([]byte, error) {
	cfgDesc, cfg, err := po.platformConfig(diffIDs, p)
	if err != nil {
		return nil, err
	}
	if err := c.pushBlob(ctx, t.Store, mnt, cfgDesc, cfg); err != nil {
		return nil, wrapf(err, "uploading config to %s", t.Name)
	}
	return manifestJSON(cfgDesc, layers, po.manifestMetadata())
}
