package blobber

import (
	"context"
	"encoding/json"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"

	"github.com/blobber-dev/blobber/internal/target"
)

const mediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"

func isIndex(mediaType string) bool {
	return mediaType == ocispec.MediaTypeImageIndex || mediaType == mediaTypeDockerManifestList
}

// indexSelection is what a reference that named an image index resolved
// to: the index and the platforms of its entries.
type indexSelection struct {
	index     ocispec.Descriptor
	platforms []ocispec.Platform // of the entries that are manifests, in order
}

// selectManifest follows an image index (desc, raw: fetched and verified
// against its digest, like any manifest) to the manifest of the platform
// the client prefers (WithPlatform), else the running platform's, else the
// first, and fetches that manifest. A manifest is returned as it is, with
// a nil selection.
func (c *Client) selectManifest(ctx context.Context, t *target.Target, desc ocispec.Descriptor, raw []byte) (ocispec.Descriptor, []byte, *indexSelection, error) {
	if !isIndex(desc.MediaType) {
		return desc, raw, nil, nil
	}
	name := t.Name + "@" + desc.Digest.String()
	var index ocispec.Index
	if err := json.Unmarshal(raw, &index); err != nil {
		return desc, nil, nil, fmt.Errorf("image index %s: %v: %w", name, err, ErrNotEStargz)
	}
	sel := &indexSelection{index: desc}
	var manifests []ocispec.Descriptor
	for _, m := range index.Manifests {
		if m.MediaType != ocispec.MediaTypeImageManifest && m.MediaType != mediaTypeDockerManifest {
			continue // a nested index, or something else: not followed
		}
		manifests = append(manifests, m)
		p := ocispec.Platform{}
		if m.Platform != nil {
			p = *m.Platform
		}
		sel.platforms = append(sel.platforms, p)
	}
	if len(manifests) == 0 {
		return desc, nil, nil, fmt.Errorf("image index %s lists no image manifest: %w", name, ErrNotEStargz)
	}
	chosen, err := choosePlatform(manifests, c.opts.platforms)
	if err != nil {
		return desc, nil, nil, fmt.Errorf("image index %s: %w", name, err)
	}
	child, childRaw, err := c.fetchManifest(ctx, t, chosen)
	if err != nil {
		return desc, nil, nil, err
	}
	return child, childRaw, sel, nil
}

// choosePlatform picks an index entry: the first of want it lists (none is
// ErrNotFound), or without want the running platform's, else the first.
func choosePlatform(manifests []ocispec.Descriptor, want []ocispec.Platform) (ocispec.Descriptor, error) {
	for _, w := range want {
		for _, m := range manifests {
			if platformMatches(m.Platform, w) {
				return m, nil
			}
		}
	}
	if len(want) > 0 {
		var have []ocispec.Platform
		for _, m := range manifests {
			if m.Platform != nil {
				have = append(have, *m.Platform)
			}
		}
		return ocispec.Descriptor{}, fmt.Errorf("no manifest for %s (the index has %s): %w", formatPlatforms(want), formatPlatforms(have), ErrNotFound)
	}
	for _, m := range manifests {
		if platformMatches(m.Platform, runningPlatform()) {
			return m, nil
		}
	}
	return manifests[0], nil
}

// fetchManifest fetches the manifest an index entry names, from the cache
// when it has it, checking its media type, size and digest.
func (c *Client) fetchManifest(ctx context.Context, t *target.Target, desc ocispec.Descriptor) (ocispec.Descriptor, []byte, error) {
	name := t.Name + "@" + desc.Digest.String()
	if err := checkManifestDescriptor(name, desc); err != nil {
		return desc, nil, err
	}
	cached := c.cache != nil && t.RegistryHost() != ""
	if cached {
		mt, raw, ok := c.cache.Manifest(desc.Digest)
		c.opts.debugCache(ctx, "manifest", ok, "digest", desc.Digest)
		if ok && mt == desc.MediaType {
			return desc, raw, nil
		}
	}
	if c.opts.offline {
		return desc, nil, fmt.Errorf("%s is not in the cache (offline): %w", name, ErrNotFound)
	}
	raw, err := content.FetchAll(ctx, t.Reads(), desc)
	if err != nil {
		return desc, nil, wrapf(err, "fetching manifest %s", name)
	}
	if cached {
		_ = c.cache.PutManifest(desc.Digest, desc.MediaType, raw) // a cache that cannot be written only costs speed
	}
	return desc, raw, nil
}

// Platforms of an index's entries, as "os/arch[/variant]" ("" for an entry
// that names none).
func (s *indexSelection) platformNames() []string {
	out := make([]string, len(s.platforms))
	for i, p := range s.platforms {
		if p.OS != "" {
			out[i] = FormatPlatform(p)
		}
	}
	return out
}

// signed is what a signature of the artifact covers: the index the
// reference named (as cosign signs an index), else the manifest.
func (a *artifact) signed() ocispec.Descriptor {
	if a.index != nil {
		return a.index.index
	}
	return a.manifest
}

// entryPlatform is the platform of the index entry desc.
func entryPlatform(desc ocispec.Descriptor) string {
	if desc.Platform != nil && desc.Platform.OS != "" {
		return FormatPlatform(*desc.Platform)
	}
	return ""
}
