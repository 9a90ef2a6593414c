package blobber

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/blobber-dev/blobber/internal/target"
	"github.com/blobber-dev/blobber/internal/toc"
)

// A split push keeps every layer's tail (its compressed TOC and footer,
// byte for byte as the layer holds them) in the image config, under a key
// runtimes ignore, and marks the config's descriptor: Open then reads that
// one blob, whose digest the manifest gives, instead of one tail per
// layer. Each tail is checked exactly as a tail read from its layer is
// (toc.FromTail: the TOC against the layer's own toc.digest annotation),
// so the index it gives is the one the layers give; a config that
// disagrees with the manifest, or a tail that does not verify, is ignored
// and that layer's tail is read from the layer.

const (
	// configTOCsAnnotation on the config descriptor says that the config
	// holds the layers' tails (its value is the format's version).
	configTOCsAnnotation = "dev.blobber.config.layer-tocs"
	configTOCsVersion    = "1"
	// configTOCsKey is the config's key for them (see indexedConfig).
	configTOCsKey = "dev.blobber.layer-tocs"
)

// configTOCs is the layers' tails, in manifest order.
type configTOCs struct {
	Layers []configTOC `json:"layers"`
}

// configTOC is one layer's tail, with what names the layer.
type configTOC struct {
	Digest    digest.Digest `json:"digest"`    // the layer blob's
	TOCDigest digest.Digest `json:"tocDigest"` // its toc.digest annotation
	Tail      []byte        `json:"tail"`      // from its TOC's first byte to its end
}

// indexedConfig is an image config with the layers' tails beside it,
// under the key dev.blobber.layer-tocs.
type indexedConfig struct {
	ocispec.Image
	TOCs *configTOCs `json:"dev.blobber.layer-tocs,omitempty"` // configTOCsKey
}

// configTails returns every layer's tail from the image config, or nil
// when the artifact has one layer, its config holds no tails, or the tails
// it holds do not name the manifest's layers: the layers' own tails are
// then read, as for any artifact.
func (img *Image) configTails(ctx context.Context, t *target.Target) [][]byte {
	c, a := img.client, img.art
	if len(a.layers) < 2 || a.config.Annotations[configTOCsAnnotation] != configTOCsVersion {
		return nil
	}
	tails, err := img.readConfigTails(ctx, t)
	if err != nil {
		c.opts.logger.DebugContext(ctx, "reading the layers' own tables of contents", "artifact", img.name, "config", a.config.Digest, "reason", err)
		return nil
	}
	return tails
}

func (img *Image) readConfigTails(ctx context.Context, t *target.Target) ([][]byte, error) {
	a := img.art
	// The tails are the layers' compressed TOCs: a config longer than the
	// TOC JSON one artifact may have is not one a push wrote.
	if a.config.Size > img.client.maxTOCBytes() {
		return nil, fmt.Errorf("the config is %d bytes, more than the TOC limit", a.config.Size)
	}
	raw, err := img.readConfig(ctx, t)
	if err != nil {
		return nil, err
	}
	entries, err := decodeConfigTOCs(raw, len(a.layers))
	if err != nil {
		return nil, err
	}
	tails := make([][]byte, len(a.layers))
	for i, l := range a.layers {
		got := entries[i]
		if got.Digest != l.desc.Digest || got.TOCDigest != l.tocDigest {
			return nil, fmt.Errorf("the config's layer %d is %s (TOC %s), the manifest's %s (TOC %s)", i, got.Digest, got.TOCDigest, l.desc.Digest, l.tocDigest)
		}
		tails[i] = got.Tail
	}
	return tails, nil
}

// decodeConfigTOCs decodes the list of tails in the config raw, which
// must have n entries. It walks the config to the list rather than
// decoding the list's JSON apart: a copy of it would cost as much as the
// whole config, beside the config and the tails. The entries are decoded
// one at a time, so that a list of more (an entry costs some fifty bytes
// decoded, three in the config) is refused once it has one too many, not
// decoded whole first.
func decodeConfigTOCs(raw []byte, n int) ([]configTOC, error) {
	wrong := fmt.Errorf("the config does not hold one tail for each of the %d layers", n)
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := enterObjectKey(dec, configTOCsKey); err != nil {
		return nil, err
	}
	if err := enterObjectKey(dec, "layers"); err != nil {
		return nil, err
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, wrong
	}
	entries := make([]configTOC, 0, n)
	for dec.More() {
		if len(entries) == n {
			return nil, wrong
		}
		var e configTOC
		if err := dec.Decode(&e); err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	if len(entries) != n {
		return nil, wrong
	}
	return entries, nil
}

// enterObjectKey reads the start of a JSON object from dec, then its
// members up to the one called key, skipping the others, and leaves dec
// before that member's value. It takes the first member of that name, the
// only one a config a push wrote has; whichever it takes, each tail is
// verified against the manifest before it is used.
func enterObjectKey(dec *json.Decoder, key string) error {
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("looking for %q: not a JSON object", key)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if tok == key {
			return nil
		}
		var skipped json.RawMessage
		if err := dec.Decode(&skipped); err != nil {
			return err
		}
	}
	return fmt.Errorf("the config holds no %q", key)
}

// readConfig reads the config blob, through the cache when there is one,
// and checks it against its digest.
func (img *Image) readConfig(ctx context.Context, t *target.Target) ([]byte, error) {
	c, desc := img.client, img.art.config
	if err := desc.Digest.Validate(); err != nil {
		return nil, err
	}
	network := &countingBlob{counts: img.fetched}
	if !c.opts.offline {
		var err error
		if network.remote, err = t.OpenBlob(ctx, desc); err != nil {
			return nil, err
		}
	}
	var r layerReader = network
	cached := c.cache != nil && t.RegistryHost() != ""
	if cached {
		r = cachedLayer{c.cache.Blob(desc.Digest, desc.Size, network), network}
	}
	defer r.Close()
	raw := make([]byte, desc.Size)
	if n, err := r.ReadAt(raw, 0); n < len(raw) {
		return nil, fmt.Errorf("reading the config: %w", err)
	}
	if got := desc.Digest.Algorithm().FromBytes(raw); got != desc.Digest {
		if inv, ok := r.(invalidator); ok && cached {
			_ = inv.Invalidate(0, desc.Size)
		}
		return nil, fmt.Errorf("the config's digest is %s, the manifest says %s: %w", got, desc.Digest, ErrDigestMismatch)
	}
	return raw, nil
}

// indexFromConfig is layer i's index from its tail in the config, or nil
// when there is none or it does not verify (the layer's own tail is then
// read).
func (img *Image) indexFromConfig(i int, tails [][]byte) *toc.Index {
	if tails == nil {
		return nil
	}
	l := img.art.layers[i]
	ix, err := toc.FromTail(tails[i], l.desc.Size, img.art.compression, l.tocDigest, img.client.tocLimits())
	if err != nil {
		img.client.opts.logger.Debug("reading a layer's own table of contents", "artifact", img.name, "layer", i, "reason", err)
		return nil
	}
	return ix
}
