package blobber

import (
	"context"
	"errors"
	"fmt"

	"github.com/containerd/stargz-snapshotter/estargz"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"

	"github.com/blobber-dev/blobber/internal/compression"
	"github.com/blobber-dev/blobber/internal/pull"
	"github.com/blobber-dev/blobber/internal/target"
	"github.com/blobber-dev/blobber/internal/toc"
)

// An artifact may hold several eStargz layers, each with its own TOC,
// and every path in exactly one of them: Open reads their TOCs in
// parallel and merges them into one index whose chunks name their layer
// (toc.Chunk.Layer), and every read of a chunk goes to that layer's
// reader. An artifact of one layer reads exactly as it always did.

// artifactLayer is one eStargz layer of an artifact.
type artifactLayer struct {
	desc      ocispec.Descriptor
	tocDigest digest.Digest
}

// parseLayers checks that every layer of a manifest is an eStargz blob
// blobber reads, all of one compression, none repeated.
func (a *artifact) parseLayers(name string, layers []ocispec.Descriptor) error {
	if len(layers) == 0 {
		return fmt.Errorf("%s has no layers: %w", name, ErrNotEStargz)
	}
	if len(layers) > toc.MaxLayers {
		return fmt.Errorf("%s has %d layers, more than the %d blobber reads: %w", name, len(layers), toc.MaxLayers, ErrNotEStargz)
	}
	seen := make(map[digest.Digest]int, len(layers))
	for i, l := range layers {
		at := name
		if len(layers) > 1 {
			at = fmt.Sprintf("%s: layer %d", name, i)
		}
		comp, err := parseLayer(at, l)
		if err != nil {
			return err
		}
		if i == 0 {
			a.compression = comp
		} else if comp != a.compression {
			return fmt.Errorf("%s is %s, layer 0 is %s: %w", at, comp, a.compression, ErrNotEStargz)
		}
		if j, dup := seen[l.Digest]; dup {
			// Every path of the one would be in the other.
			return fmt.Errorf("%s repeats layer %d: %w", at, j, ErrNotEStargz)
		}
		seen[l.Digest] = i
		a.layers = append(a.layers, artifactLayer{desc: l, tocDigest: digest.Digest(l.Annotations[estargz.TOCJSONDigestAnnotation])})
	}
	return nil
}

// parseLayer checks one layer descriptor and returns its compression.
func parseLayer(at string, l ocispec.Descriptor) (compression.Compression, error) {
	var comp compression.Compression
	switch l.MediaType {
	case ocispec.MediaTypeImageLayerGzip, mediaTypeDockerLayer:
		comp = compression.Gzip
	case ocispec.MediaTypeImageLayerZstd:
		comp = compression.Zstd
	default:
		return comp, fmt.Errorf("%s: layer media type %q: %w", at, l.MediaType, ErrNotEStargz)
	}
	if err := l.Digest.Validate(); err != nil {
		return comp, fmt.Errorf("%s: layer digest %q: %v: %w", at, l.Digest, err, ErrNotEStargz)
	}
	if l.Size <= 0 || l.Size > maxBlobSize {
		return comp, fmt.Errorf("%s: layer size %d: %w", at, l.Size, ErrNotEStargz)
	}
	if len(l.URLs) > 0 {
		return comp, fmt.Errorf("%s: layer has foreign URLs, which blobber does not follow: %w", at, ErrNotEStargz)
	}
	tocDigest, ok := l.Annotations[estargz.TOCJSONDigestAnnotation]
	if !ok {
		return comp, fmt.Errorf("%s: layer has no %s annotation (an ordinary image?): %w", at, estargz.TOCJSONDigestAnnotation, ErrNotEStargz)
	}
	if err := digest.Digest(tocDigest).Validate(); err != nil {
		return comp, fmt.Errorf("%s: TOC digest %q: %v: %w", at, tocDigest, err, ErrNotEStargz)
	}
	return comp, nil
}

// openLayers opens a reader of every layer of the image's artifact: the
// network, with the cache in front of it when there is one.
func (img *Image) openLayers(ctx context.Context, t *target.Target) error {
	c := img.client
	for _, l := range img.art.layers {
		network := &countingBlob{counts: img.fetched}
		if !c.opts.offline {
			var err error
			if network.remote, err = t.OpenBlob(ctx, l.desc); err != nil {
				return wrapf(err, "opening layer %s of %s", l.desc.Digest, img.name)
			}
		}
		var r layerReader = network
		if inv, ok := network.remote.(invalidator); ok {
			r = mirroredLayer{network, inv}
		}
		if c.cache != nil && t.RegistryHost() != "" {
			var remote layerReader = network
			if c.opts.target.Debug != nil {
				remote = missLog{network, ctx, &c.opts, img.name}
			}
			r = cachedLayer{c.cache.Blob(l.desc.Digest, l.desc.Size, remote), r}
		}
		img.layers = append(img.layers, r)
	}
	return nil
}

// readIndex reads and verifies every layer's TOC, in parallel within the
// client's concurrency, each against its own annotation, and merges them.
// A layer whose tail the config holds (tails, see layers_index.go) is read
// from there, and its tail dropped.
func (img *Image) readIndex(ctx context.Context, tails [][]byte) (*toc.Index, error) {
	c := img.client
	parts := make([]*toc.Index, len(img.art.layers))
	budget := toc.NewMergeBudget(c.tocLimits())
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, c.opts.concurrency))
	for i, l := range img.art.layers {
		g.Go(func() error {
			var err error
			parts[i] = img.indexFromConfig(i, tails)
			if tails != nil {
				// The tail is garbage once indexed: the other layers'
				// indexes grow into its room.
				tails[i] = nil
			}
			if parts[i] == nil {
				err = img.retryUncached(i, 0, l.desc.Size, func() (err error) {
					parts[i], err = toc.Read(gctx, img.layers[i], l.desc.Size, img.art.compression, l.tocDigest, c.tocLimits())
					return err
				})
			}
			if err == nil && len(parts) > 1 {
				err = budget.Add(parts[i])
			}
			if err != nil && len(parts) > 1 {
				err = fmt.Errorf("layer %d (%s): %w", i, l.desc.Digest, err)
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if len(parts) == 1 {
		return parts[0], nil
	}
	return toc.Merge(parts, c.tocLimits())
}

// layerDescriptors are the descriptors of the artifact's layers.
func (a *artifact) layerDescriptors() []ocispec.Descriptor {
	out := make([]ocispec.Descriptor, len(a.layers))
	for i, l := range a.layers {
		out[i] = l.desc
	}
	return out
}

// closeLayers closes every layer's reader.
func (img *Image) closeLayers() error {
	var errs []error
	for _, l := range img.layers {
		errs = append(errs, l.Close())
	}
	return errors.Join(errs...)
}

// pullArtifact is the image as the pull engine reads it: the merged index
// and every layer's reader and digest.
func (img *Image) pullArtifact() pull.Artifact {
	a := pull.Artifact{Index: img.index}
	for i, l := range img.art.layers {
		a.Layers = append(a.Layers, pull.Layer{Data: img.layers[i], Digest: l.desc.Digest, Size: l.desc.Size})
	}
	return a
}

// layerFileBytes is the sum of the sizes of the files layer i holds.
func (img *Image) layerFileBytes(i int) int64 {
	if len(img.index.Layers) == 0 {
		return img.index.TotalBytes
	}
	return img.index.Layers[i].TotalBytes
}
