package testartifact

import (
	"context"

	"github.com/containerd/stargz-snapshotter/estargz"
	digest "github.com/opencontainers/go-digest"
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
	return PushLayersWithConfig(ctx, t, tag, nil, nil, layers...)
}
