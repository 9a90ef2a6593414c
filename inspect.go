package blobber

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/containerd/stargz-snapshotter/estargz"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry"

	"github.com/blobber-dev/blobber/internal/bundle"
	"github.com/blobber-dev/blobber/internal/target"
	"github.com/blobber-dev/blobber/internal/toc"
)

// maxInlineConfig is the largest config Inspect fetches to show; a
// blobber config is a few hundred bytes, unless a split push put its
// layers' tables of contents in it (layers_index.go).
const maxInlineConfig = 64 << 10

// maxListedReferrers bounds the referrers Inspect lists: one page is
// enough to say whether anything is attached.
const maxListedReferrers = 100

// Inspection is what Inspect learned of an artifact from its manifest and
// its table of contents, without reading any file.
type Inspection struct {
	// Name is the artifact's repository and manifest digest.
	Name string
	// Manifest is the manifest's descriptor; RawManifest its bytes as
	// stored (verified against the digest).
	Manifest    ocispec.Descriptor
	RawManifest []byte
	// ArtifactType and Annotations are the manifest's.
	ArtifactType string
	Annotations  map[string]string
	// Created is the org.opencontainers.image.created annotation, parsed;
	// zero when absent or not RFC 3339.
	Created time.Time
	// Config is the config's descriptor; ConfigContent its bytes when they
	// are small enough to fetch (nil otherwise, or offline).
	Config        ocispec.Descriptor
	ConfigContent []byte
	Layers        []LayerInspection
	// Entries counts the tree's entries by kind; TotalSize is the sum of
	// its regular files' sizes.
	Files, Directories, Symlinks, Hardlinks, Others int
	TotalSize                                       int64
	// NotReadable is why blobber cannot read the artifact's files (an
	// ordinary image, overlapping layers, no TOC): it is then described from
	// its manifest alone, and the entry counts are zero.
	NotReadable error
	// Referrers are the manifests attached to this one (signatures among
	// them), at most one page; nil with ReferrersErr set when they could
	// not be listed (offline, or a registry's error).
	Referrers    []ocispec.Descriptor
	ReferrersErr error
	// Platform is the manifest's platform ("os/arch[/variant]"): its
	// entry's in an index, else its config's ("" when not read).
	Platform string
	// Index is the image index the reference named, if it did (zero
	// otherwise): Manifest is then the entry read (WithPlatform), and
	// Referrers and signatures are the index's. Platforms are its
	// entries' platforms, in order.
	Index     ocispec.Descriptor
	Platforms []string
}

// LayerInspection describes one layer.
type LayerInspection struct {
	Descriptor ocispec.Descriptor
	// Compression is "" for a media type blobber does not read; TOCDigest
	// "" for a layer that is not eStargz.
	Compression Compression
	TOCDigest   digest.Digest
	// UncompressedSize is the size of the layer's tar stream as its
	// estargz annotation records it (UncompressedSizeFrom "annotation"),
	// or, without that annotation, the sum of its files' sizes (from the
	// table of contents: "files"), which leaves out tar headers; 0 and ""
	// when neither is known.
	UncompressedSize     int64
	UncompressedSizeFrom string
	// DiffID is the digest of the uncompressed layer as the config records
	// it; "" when the config was not read.
	DiffID digest.Digest
}

// SignatureCount is how many of the referrers are Sigstore bundles.
func (in *Inspection) SignatureCount() int {
	n := 0
	for _, r := range in.Referrers {
		if r.ArtifactType == bundle.MediaType {
			n++
		}
	}
	return n
}

// Inspect describes the artifact ref names from its manifest and table of
// contents: nothing of the layer is read beyond the end that holds the
// TOC. The config, when small, and the list of referrers are fetched too.
// An image manifest blobber cannot read is described from the manifest
// alone (NotReadable says why); an image index by the entry reads take
// (WithPlatform), with the platforms it lists. With a verifier (WithVerifier), a signature must verify
// first, as for Open.
func (c *Client) Inspect(ctx context.Context, ref string) (*Inspection, error) {
	t, err := target.Open(ctx, ref, c.opts.target, false)
	if err != nil {
		return nil, classify(err)
	}
	tag := t.Reference
	if tag == "" {
		tag = "latest"
	}
	desc, raw, err := c.manifest(ctx, t, tag)
	if err != nil {
		return nil, err
	}
	desc, raw, sel, err := c.selectManifest(ctx, t, desc, raw)
	if err != nil {
		return nil, err
	}
	signed := desc
	name := t.Name + "@" + desc.Digest.String()
	if err := checkManifestDescriptor(name, desc); err != nil {
		return nil, err
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("manifest %s: %v: %w", name, err, ErrNotEStargz)
	}
	in := &Inspection{
		Name:         name,
		Manifest:     desc,
		RawManifest:  raw,
		ArtifactType: m.ArtifactType,
		Annotations:  m.Annotations,
		Config:       m.Config,
	}
	if sel != nil {
		signed, in.Index, in.Platforms = sel.index, sel.index, sel.platformNames()
		in.Platform = entryPlatform(desc)
	}
	if s, ok := m.Annotations[ocispec.AnnotationCreated]; ok {
		in.Created, _ = time.Parse(time.RFC3339, s)
	}
	// An image blobber cannot read (not eStargz, no TOC) is still
	// described from its manifest.
	art, err := parseArtifact(name, desc, raw)
	if errors.Is(err, ErrNotEStargz) {
		in.NotReadable = err
	} else if err != nil {
		return nil, err
	}
	for _, l := range m.Layers {
		in.Layers = append(in.Layers, describeLayer(l))
	}
	if art == nil {
		if err := c.verifyArtifact(ctx, t, signed); err != nil {
			return nil, err
		}
	} else {
		art.index = sel
		img, err := c.openArtifact(ctx, t, art)
		if err != nil {
			return nil, err
		}
		defer img.Close()
		in.countEntries(img.index.Root)
		for i := range in.Layers {
			if in.Layers[i].UncompressedSizeFrom == "" {
				in.Layers[i].UncompressedSize, in.Layers[i].UncompressedSizeFrom = img.layerFileBytes(i), "files"
			}
		}
		// A split push's config holds its layers' TOCs: too big to show,
		// it is still read for the diffIDs, within the bound Open reads it by.
		if m.Config.Size > maxInlineConfig && m.Config.Size <= c.maxTOCBytes() && art.config.Annotations[configTOCsAnnotation] == configTOCsVersion {
			if cfg, err := img.readConfig(ctx, t); err == nil {
				in.readConfig(cfg)
			}
		}
	}
	if !c.opts.offline && m.Config.Size <= maxInlineConfig {
		if cfg, err := content.FetchAll(ctx, t.Store, m.Config); err == nil {
			in.ConfigContent = cfg
			in.readConfig(cfg)
		}
	}
	in.Referrers, in.ReferrersErr = c.listReferrers(ctx, t, signed)
	return in, nil
}

// readConfig takes the platform and the layers' diffIDs from the image
// config, when it parses as one.
func (in *Inspection) readConfig(cfg []byte) {
	s, err := readConfigSummary(cfg, len(in.Layers))
	if err != nil {
		return
	}
	if in.Platform == "" && s.platform.OS != "" && s.platform.Architecture != "" {
		in.Platform = FormatPlatform(s.platform)
	}
	if len(s.diffIDs) == len(in.Layers) {
		for i := range in.Layers {
			in.Layers[i].DiffID = s.diffIDs[i]
		}
	}
}

// describeLayer is what a layer's descriptor says of it.
func describeLayer(l ocispec.Descriptor) LayerInspection {
	li := LayerInspection{Descriptor: l, TOCDigest: digest.Digest(l.Annotations[estargz.TOCJSONDigestAnnotation])}
	switch l.MediaType {
	case ocispec.MediaTypeImageLayerGzip, mediaTypeDockerLayer:
		li.Compression = Gzip
	case ocispec.MediaTypeImageLayerZstd:
		li.Compression = Zstd
	}
	if n, err := strconv.ParseInt(l.Annotations[estargz.StoreUncompressedSizeAnnotation], 10, 64); err == nil && n >= 0 {
		li.UncompressedSize, li.UncompressedSizeFrom = n, "annotation"
	}
	return li
}

func (in *Inspection) countEntries(dir *toc.Entry) {
	for _, e := range dir.Children() {
		switch e.Type {
		case toc.TypeReg:
			in.Files++
			in.TotalSize += e.Size
		case toc.TypeDir:
			in.Directories++
			in.countEntries(e)
		case toc.TypeSymlink:
			in.Symlinks++
		case toc.TypeHardlink:
			in.Hardlinks++
		default:
			in.Others++
		}
	}
}

var errEnoughReferrers = errors.New("enough referrers")

// listReferrers lists the manifests of any type attached to desc, at most
// maxListedReferrers of them.
func (c *Client) listReferrers(ctx context.Context, t *target.Target, desc ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	if c.opts.offline {
		return nil, fmt.Errorf("listing referrers: %w", ErrOffline)
	}
	graph, ok := t.Store.(content.ReadOnlyGraphStorage)
	if !ok {
		return nil, errors.New("the target cannot list referrers")
	}
	lister, ok := graph.(registry.ReferrerLister)
	if !ok {
		refs, err := registry.Referrers(ctx, graph, desc, "")
		if err != nil {
			return nil, wrapf(err, "listing referrers of %s", desc.Digest)
		}
		return refs[:min(len(refs), maxListedReferrers)], nil
	}
	refs := []ocispec.Descriptor{}
	err := lister.Referrers(ctx, desc, "", func(page []ocispec.Descriptor) error {
		refs = append(refs, page[:min(len(page), maxListedReferrers-len(refs))]...)
		if len(refs) == maxListedReferrers {
			return errEnoughReferrers
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnoughReferrers) {
		return nil, wrapf(err, "listing referrers of %s", desc.Digest)
	}
	return refs, nil
}

// FileDigest is the sha256 digest of a regular file's content as the
// table of contents records it: for a file stored as one chunk, that
// chunk's digest, which every read checks; for a file of several, the
// TOC's whole-file digest, the publisher's claim (the TOC's own digest
// vouches that it is theirs, but reads check chunks, not it). ok is false
// for anything but a regular file, and for a file the TOC gives none.
func (img *Image) FileDigest(name string) (d digest.Digest, ok bool) {
	e, err := img.lookup("digest", name, false)
	if err != nil || e.Type != toc.TypeReg {
		return "", false
	}
	return img.index.FileDigest(e)
}
