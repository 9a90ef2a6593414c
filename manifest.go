package blobber

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/containerd/stargz-snapshotter/estargz"
	digest "github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"

	"github.com/blobber-dev/blobber/internal/compression"
	"github.com/blobber-dev/blobber/internal/layer"
	"github.com/blobber-dev/blobber/internal/target"
)

const (
	mediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	mediaTypeDockerLayer    = "application/vnd.docker.image.rootfs.diff.tar.gzip"
)

// layerDescriptor describes a built blob with the annotations eStargz
// readers look for, those ORAS unpacks it by, and the compression level it
// was built at (its digest depends on it).
func layerDescriptor(res *layer.Result, comp compression.Compression, level compression.Level) ocispec.Descriptor {
	annotations := orasLayerAnnotations(comp)
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[estargz.TOCJSONDigestAnnotation] = res.TOCDigest.String()
	annotations[estargz.StoreUncompressedSizeAnnotation] = strconv.FormatInt(res.UncompressedSize, 10)
	annotations[compression.LevelAnnotation] = string(comp.Effective(level))
	return ocispec.Descriptor{
		MediaType:   comp.MediaType(),
		Digest:      res.Digest,
		Size:        res.Size,
		Annotations: annotations,
	}
}

// configJSON is an image config whose rootfs names the layer's diffID, so
// that container tooling sees a well-formed image, and which names the
// platform the spec requires.
func configJSON(diffIDs []digest.Digest, platform ocispec.Platform) ([]byte, error) {
	return json.Marshal(ocispec.Image{
		Platform: platform,
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: diffIDs},
	})
}

func manifestJSON(config ocispec.Descriptor, layers []ocispec.Descriptor, meta pushMetadata) ([]byte, error) {
	config.Annotations = meta.configAnnotations
	return json.Marshal(ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: meta.artifactType,
		Config:       config,
		Layers:       layers,
		Annotations:  meta.annotations,
	})
}

// artifact is a resolved, verified manifest and its eStargz layers (one,
// unless the artifact was pushed split, see layers.go).
type artifact struct {
	manifest    ocispec.Descriptor
	config      ocispec.Descriptor
	layers      []artifactLayer
	compression compression.Compression
	index       *indexSelection // the image index the reference named, if it did (index.go)
}

// maxBlobSize is far above any real layer; a larger declared size is a lie.
const maxBlobSize = 1 << 50

// resolve finds the manifest a reference names, fetches it (checking its
// digest and size) or takes it from the cache, and checks that it is a
// blobber-readable artifact.
func (c *Client) resolve(ctx context.Context, t *target.Target) (*artifact, error) {
	ref := t.Reference
	if ref == "" {
		ref = "latest"
	}
	desc, raw, err := c.manifest(ctx, t, ref)
	if err != nil {
		return nil, err
	}
	desc, raw, sel, err := c.selectManifest(ctx, t, desc, raw)
	if err != nil {
		return nil, err
	}
	a, err := parseArtifact(t.Name+"@"+desc.Digest.String(), desc, raw)
	if a != nil {
		a.index = sel
	}
	return a, err
}

// refName is name with ref as a user writes it: name@sha256:… for a
// digest, name:tag for a tag.
func refName(name, ref string) string {
	if _, err := digest.Parse(ref); err == nil {
		return name + "@" + ref
	}
	return name + ":" + ref
}

// manifest returns the descriptor and bytes of the manifest ref names.
func (c *Client) manifest(ctx context.Context, t *target.Target, ref string) (ocispec.Descriptor, []byte, error) {
	cached := c.cache != nil && t.RegistryHost() != ""
	var desc ocispec.Descriptor
	dgst, err := digest.Parse(ref)
	isDigest := err == nil
	if cached {
		if !isDigest {
			d, mt, size, ok := c.cache.Tag(t.Name+":"+ref, c.tagMaxAge())
			c.opts.debugCache(ctx, "tag", ok, "reference", refName(t.Name, ref))
			if ok {
				dgst, isDigest = d, true
				desc = ocispec.Descriptor{MediaType: mt, Digest: d, Size: size}
			}
		}
		if isDigest {
			mt, raw, ok := c.cache.Manifest(dgst)
			c.opts.debugCache(ctx, "manifest", ok, "digest", dgst)
			if ok {
				return ocispec.Descriptor{MediaType: mt, Digest: dgst, Size: int64(len(raw))}, raw, nil
			}
		}
	}
	if c.opts.offline {
		return desc, nil, fmt.Errorf("%s is not in the cache (offline): %w", refName(t.Name, ref), ErrNotFound)
	}
	if desc.Digest == "" {
		if desc, err = t.Reads().Resolve(ctx, ref); err != nil {
			return desc, nil, wrapf(err, "resolving %s", refName(t.Name, ref))
		}
	}
	name := t.Name + "@" + desc.Digest.String()
	if err := checkResolvedDescriptor(name, desc); err != nil {
		return desc, nil, err
	}
	raw, err := content.FetchAll(ctx, t.Reads(), desc)
	if err != nil {
		return desc, nil, wrapf(err, "fetching manifest %s", name)
	}
	if cached {
		// A cache that cannot be written only costs speed.
		_ = c.cache.PutManifest(desc.Digest, desc.MediaType, raw)
		if !isDigest {
			_ = c.cache.PutTag(t.Name+":"+ref, desc.Digest, desc.MediaType, desc.Size)
		}
	}
	return desc, raw, nil
}

func checkManifestDescriptor(name string, desc ocispec.Descriptor) error {
	if isIndex(desc.MediaType) {
		return fmt.Errorf("%s is an image index, not a file artifact: %w", name, ErrNotEStargz)
	}
	return checkResolvedDescriptor(name, desc)
}

// checkResolvedDescriptor checks what a reference resolved to: an image
// manifest or an image index (index.go), bounded alike.
func checkResolvedDescriptor(name string, desc ocispec.Descriptor) error {
	switch desc.MediaType {
	case ocispec.MediaTypeImageManifest, mediaTypeDockerManifest, ocispec.MediaTypeImageIndex, mediaTypeDockerManifestList:
	default:
		return fmt.Errorf("%s has media type %q, not an image manifest: %w", name, desc.MediaType, ErrNotEStargz)
	}
	if desc.Size > 4<<20 {
		return fmt.Errorf("manifest %s is %d bytes: %w", name, desc.Size, ErrLimitExceeded)
	}
	return nil
}

// parseArtifact checks that a verified manifest describes eStargz layers.
func parseArtifact(name string, desc ocispec.Descriptor, raw []byte) (*artifact, error) {
	if err := checkManifestDescriptor(name, desc); err != nil {
		return nil, err
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("manifest %s: %v: %w", name, err, ErrNotEStargz)
	}
	// The config is read only by some readers (inspect, a split push's
	// tables of contents), but a size no blob has is a lie about all of it.
	if m.Config.Size < 0 || m.Config.Size > maxBlobSize {
		return nil, fmt.Errorf("manifest %s: config size %d: %w", name, m.Config.Size, ErrNotEStargz)
	}
	a := &artifact{manifest: desc, config: m.Config}
	if err := a.parseLayers(name, m.Layers); err != nil {
		return nil, err
	}
	return a, nil
}
