package testartifact

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/containerd/stargz-snapshotter/estargz"
	digest "github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry"
)

// Artifact is what Push writes. Every field may be edited to lie: Blob is
// uploaded under its true digest and size whatever Layer says, and Layer
// goes into the manifest as it is.
type Artifact struct {
	// Blob is the layer content uploaded (nil uploads nothing).
	Blob []byte
	// Layer is the manifest's single layer descriptor.
	Layer ocispec.Descriptor
	// ExtraLayers follow Layer in the manifest (their blobs are not
	// uploaded).
	ExtraLayers []ocispec.Descriptor
	// DiffID goes into the image config's rootfs ("" leaves diff_ids
	// empty).
	DiffID digest.Digest
}

// New describes blob as the single eStargz layer of an image: media type
// application/vnd.oci.image.layer.v1.tar+gzip, its digest and size, and the
// TOC digest annotation (left out when tocDigest is "", which makes an
// ordinary image).
func New(blob []byte, tocDigest, diffID digest.Digest) *Artifact {
	a := &Artifact{
		Blob: blob,
		Layer: ocispec.Descriptor{
			MediaType: ocispec.MediaTypeImageLayerGzip,
			Digest:    digest.FromBytes(blob),
			Size:      int64(len(blob)),
		},
		DiffID: diffID,
	}
	if tocDigest != "" {
		a.Layer.Annotations = map[string]string{estargz.TOCJSONDigestAnnotation: tocDigest.String()}
	}
	return a
}

// Push uploads blob and an image whose single layer describes it (see New),
// after edits have had their way with the Artifact, and tags it.
func Push(ctx context.Context, t oras.Target, tag string, blob []byte, tocDigest, diffID digest.Digest, edits ...func(*Artifact)) (ocispec.Descriptor, error) {
	a := New(blob, tocDigest, diffID)
	for _, edit := range edits {
		edit(a)
	}
	return a.Push(ctx, t, tag)
}

// WithUncompressedSize adds the io.containers.estargz.uncompressed-size
// annotation.
func WithUncompressedSize(n int64) func(*Artifact) {
	return func(a *Artifact) {
		if a.Layer.Annotations == nil {
			a.Layer.Annotations = map[string]string{}
		}
		a.Layer.Annotations[estargz.StoreUncompressedSizeAnnotation] = strconv.FormatInt(n, 10)
	}
}

// Push uploads the blob and config, then the manifest, and tags it. It
// returns the manifest's descriptor.
func (a *Artifact) Push(ctx context.Context, t oras.Target, tag string) (ocispec.Descriptor, error) {
	if a.Blob != nil {
		desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayerGzip, Digest: digest.FromBytes(a.Blob), Size: int64(len(a.Blob))}
		if err := pushOnce(ctx, t, desc, a.Blob); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("pushing layer: %w", err)
		}
	}
	img := ocispec.Image{
		Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"},
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{}},
	}
	if a.DiffID != "" {
		img.RootFS.DiffIDs = append(img.RootFS.DiffIDs, a.DiffID)
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
		Layers:    append([]ocispec.Descriptor{a.Layer}, a.ExtraLayers...),
	})
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return PushManifest(ctx, t, tag, m)
}

// PushManifest uploads raw as an OCI image manifest, byte for byte, and
// tags it.
func PushManifest(ctx context.Context, t oras.Target, tag string, raw []byte) (ocispec.Descriptor, error) {
	desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(raw), Size: int64(len(raw))}
	if rp, ok := t.(registry.ReferencePusher); ok {
		if err := rp.PushReference(ctx, desc, bytes.NewReader(raw), tag); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("pushing manifest: %w", err)
		}
		return desc, nil
	}
	if err := pushOnce(ctx, t, desc, raw); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("pushing manifest: %w", err)
	}
	if err := t.Tag(ctx, desc, tag); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("tagging: %w", err)
	}
	return desc, nil
}

func pushOnce(ctx context.Context, t oras.Target, desc ocispec.Descriptor, b []byte) error {
	if ok, err := t.Exists(ctx, desc); err == nil && ok {
		return nil
	}
	err := t.Push(ctx, desc, bytes.NewReader(b))
	if errors.Is(err, errdef.ErrAlreadyExists) {
		return nil
	}
	return err
}
