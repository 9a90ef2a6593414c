package testartifact

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/containerd/stargz-snapshotter/estargz"
	digest "github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
)

// Layer is one eStargz layer of an artifact of several: its blob, the
// descriptor the manifest gives it (edit it freely: Blob is uploaded
// under its true digest whatever Desc says) and its diffID.
type Layer struct {
	Blob   []byte
	Desc   ocispec.Descriptor
	DiffID digest.Digest
}

// NewLayer builds a gzip eStargz layer of entries with estargz's writer,
// described with its TOC digest annotation.
func NewLayer(entries ...Entry) (Layer, error) {
	return NewLayerWith(Options{}, entries...)
}

// NewLayerWith is NewLayer with options.
func NewLayerWith(o Options, entries ...Entry) (Layer, error) {
	blob, tocDigest, diffID, err := EStargzWith(Tar(entries...), o)
	if err != nil {
		return Layer{}, err
	}
	mediaType := ocispec.MediaTypeImageLayerGzip
	if o.Zstd {
		mediaType = ocispec.MediaTypeImageLayerZstd
	}
	return Layer{
		Blob: blob,
		Desc: ocispec.Descriptor{
			MediaType:   mediaType,
			Digest:      digest.FromBytes(blob),
			Size:        int64(len(blob)),
			Annotations: map[string]string{estargz.TOCJSONDigestAnnotation: tocDigest.String()},
		},
		DiffID: diffID,
	}, nil
}

// PushLayers uploads every layer's blob, a config naming their diffIDs
// and a manifest listing their descriptors in order, and tags it. It
// returns the manifest's descriptor.
func PushLayers(ctx context.Context, t oras.Target, tag string, layers ...Layer) (ocispec.Descriptor, error) {
	img := ocispec.Image{
		Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{}},
	}
	descs := make([]ocispec.Descriptor, 0, len(layers))
	for i, l := range layers {
		desc := ocispec.Descriptor{MediaType: l.Desc.MediaType, Digest: digest.FromBytes(l.Blob), Size: int64(len(l.Blob))}
		if err := pushOnce(ctx, t, desc, l.Blob); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("pushing layer %d: %w", i, err)
		}
		img.RootFS.DiffIDs = append(img.RootFS.DiffIDs, l.DiffID)
		descs = append(descs, l.Desc)
	}
	cfg, err := json.Marshal(img)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	cfgDesc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromBytes(cfg), Size: int64(len(cfg))}
	if err := pushOnce(ctx, t, cfgDesc, cfg); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("pushing config: %w", err)
	}
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
