package blobber

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"maps"
	"os"
	"slices"
	"sync"

	"github.com/containerd/stargz-snapshotter/estargz"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"

	"github.com/blobber-dev/blobber/internal/compression"
	"github.com/blobber-dev/blobber/internal/toc"
)

// tailCollector gathers the tails of a split push's layers, by layer, as
// they are built or reused, for the config (see layers_index.go). The
// tails go to a file as they arrive, and the config is written from it to
// a file of its own, which is uploaded from there: a tree of many files
// has tails of some MiB, and its config, their base64, a third more; held
// in memory, both would add to the builds' peak.
type tailCollector struct {
	mu      sync.Mutex
	spool   *os.File // the tails, one after the other in the order they came
	size    int64
	tails   []spooledTail
	failed  bool       // a tail could not be kept: the config holds none
	configs []*os.File // the configs written, removed by close
}

// spooledTail is one layer's tail: where it is in the spool, and what
// names the layer.
type spooledTail struct {
	digest, tocDigest digest.Digest
	off, n            int64
	kept              bool
}

func newTailCollector(layers int) *tailCollector {
	return &tailCollector{tails: make([]spooledTail, layers)}
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
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.spool == nil && !tc.failed {
		f, err := os.CreateTemp("", stagedLayerPattern)
		tc.spool, tc.failed = f, err != nil
	}
	if tc.failed {
		return
	}
	if _, err := tc.spool.WriteAt(tail, tc.size); err != nil {
		tc.failed = true
		return
	}
	tocDigest := digest.Digest(desc.Annotations[estargz.TOCJSONDigestAnnotation])
	tc.tails[i] = spooledTail{digest: desc.Digest, tocDigest: tocDigest, off: tc.size, n: int64(len(tail)), kept: true}
	tc.size += int64(len(tail))
}

// complete tells whether the config is to hold the tails: whether there
// are several layers, and every one's tail was kept.
func (tc *tailCollector) complete() bool {
	return tc != nil && len(tc.tails) > 1 && !tc.failed &&
		!slices.ContainsFunc(tc.tails, func(t spooledTail) bool { return !t.kept })
}

// close removes the files the collector wrote.
func (tc *tailCollector) close() {
	for _, f := range append(tc.configs, tc.spool) {
		if f != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}
}

// stageConfig writes the config of platform p with the layers' tails to a
// file, and returns its descriptor and what reads it. The config is the
// bytes json.Marshal makes of an indexedConfig: the image config's
// fields, then the tails (encoding/json writes []byte as standard base64).
func (tc *tailCollector) stageConfig(diffIDs []digest.Digest, p ocispec.Platform) (ocispec.Descriptor, func() io.Reader, error) {
	image, err := json.Marshal(ocispec.Image{Platform: p, RootFS: ocispec.RootFS{Type: "layers", DiffIDs: diffIDs}})
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	f, err := os.CreateTemp("", stagedLayerPattern)
	if err != nil {
		return ocispec.Descriptor{}, nil, stagingError(err)
	}
	tc.configs = append(tc.configs, f)
	digester := digest.Canonical.Digester()
	w := bufio.NewWriterSize(io.MultiWriter(f, digester.Hash()), 64<<10)
	// The image config is an object of fields: the tails follow them.
	w.Write(image[:len(image)-1])
	w.WriteString(`,"dev.blobber.layer-tocs":{"layers":[`)
	for i, t := range tc.tails {
		if i > 0 {
			w.WriteByte(',')
		}
		d, _ := json.Marshal(t.digest)
		td, _ := json.Marshal(t.tocDigest)
		w.WriteString(`{"digest":`)
		w.Write(d)
		w.WriteString(`,"tocDigest":`)
		w.Write(td)
		w.WriteString(`,"tail":"`)
		enc := base64.NewEncoder(base64.StdEncoding, w)
		if _, err := io.Copy(enc, io.NewSectionReader(tc.spool, t.off, t.n)); err != nil {
			return ocispec.Descriptor{}, nil, stagingError(err)
		}
		enc.Close()
		w.WriteString(`"}`)
	}
	w.WriteString(`]}}`)
	if err := w.Flush(); err != nil {
		return ocispec.Descriptor{}, nil, stagingError(err)
	}
	size, err := f.Seek(0, io.SeekCurrent) // the file holds what was written, from its start
	if err != nil {
		return ocispec.Descriptor{}, nil, stagingError(err)
	}
	desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digester.Digest(), Size: size}
	return desc, func() io.Reader { return io.NewSectionReader(f, 0, size) }, nil
}

// platformConfig is the image config for platform p, its descriptor and
// what reads it: configJSON's, with the layers' tails when the push kept
// them.
func (po *pushOptions) platformConfig(diffIDs []digest.Digest, p ocispec.Platform) (ocispec.Descriptor, func() io.Reader, error) {
	if po.layerTOCs.complete() {
		return po.layerTOCs.stageConfig(diffIDs, p)
	}
	cfg, err := configJSON(diffIDs, p)
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	return content.NewDescriptorFromBytes(ocispec.MediaTypeImageConfig, cfg), func() io.Reader { return bytes.NewReader(cfg) }, nil
}

// manifestMetadata is the metadata the manifest carries: the push's, and
// the mark on the config descriptor that the config holds the tails.
func (po *pushOptions) manifestMetadata() pushMetadata {
	if !po.layerTOCs.complete() {
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
