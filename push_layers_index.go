package blobber

import (
	"encoding/json"
	"io"
	"maps"
	"slices"

	"github.com/containerd/stargz-snapshotter/estargz"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/blobber-dev/blobber/internal/compression"
	"github.com/blobber-dev/blobber/internal/toc"
)

// tailCollector gathers the tails of a split push's layers, by layer, as
// they are built or reused, for the config (see layers_index.go).
type tailCollector struct {
	tocs []configTOC
	kept []bool
}

func newTailCollector(layers int) *tailCollector {
	return &tailCollector{tocs: make([]configTOC, layers), kept: make([]bool, layers)}
}

// keep adds the tail of layer i, just built and staged in r. A tail that
// cannot be read leaves the config without any: readers then read each
// layer's own, which costs a request a layer, not correctness.
func (tc *tailCollector) keep(i int, r io.ReaderAt, desc ocispec.Descriptor, comp compression.Compression) {
	if tail, err := toc.Tail(r, desc.Size, comp); err == nil {
		tc.add(i, desc, tail)
	}
}

// add adds the tail of layer i, read from the layer desc.
func (tc *tailCollector) add(i int, desc ocispec.Descriptor, tail []byte) {
	if tail == nil {
		return
	}
	tocDigest := digest.Digest(desc.Annotations[estargz.TOCJSONDigestAnnotation])
	tc.tocs[i] = configTOC{Digest: desc.Digest, TOCDigest: tocDigest, Tail: tail}
	tc.kept[i] = true
}

// index is the tails of all the layers, or nil unless every one was kept.
func (tc *tailCollector) index() *configTOCs {
	if len(tc.tocs) < 2 || slices.Contains(tc.kept, false) {
		return nil
	}
	return &configTOCs{Layers: tc.tocs}
}

// platformConfig is the image config for platform p: configJSON's, with
// the layers' tails when the push kept them.
func (po *pushOptions) platformConfig(diffIDs []digest.Digest, p ocispec.Platform) ([]byte, error) {
	if po.layerTOCs == nil {
		return configJSON(diffIDs, p)
	}
	return json.Marshal(indexedConfig{
		Image: ocispec.Image{Platform: p, RootFS: ocispec.RootFS{Type: "layers", DiffIDs: diffIDs}},
		TOCs:  po.layerTOCs,
	})
}

// manifestMetadata is the metadata the manifest carries: the push's, and
// the mark on the config descriptor that the config holds the tails.
func (po *pushOptions) manifestMetadata() pushMetadata {
	if po.layerTOCs == nil {
		return po.meta
	}
	meta := po.meta
	meta.configAnnotations = maps.Clone(po.meta.configAnnotations)
	if meta.configAnnotations == nil {
		meta.configAnnotations = map[string]string{}
	}
	meta.configAnnotations[configTOCsAnnotation] = configTOCsVersion
	return meta
}
