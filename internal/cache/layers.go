package cache

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// A layer record names what one layer of a split push built: keyed by the
// fingerprint of the group of entries the layer holds (their metadata and
// the build options), it gives the layer's descriptor (digest, size, media
// type, TOC digest annotation) and its diffID. Like the other records of
// trees it is a hint its user checks; it lives in a directory of its own
// so that it is never read as another kind.
const KindLayer = "layer" // a pushed group's fingerprint and the layer it built

const layersDir = "trees/layers"

type layerRecord struct {
	Kind     string             `json:"kind"`
	Key      string             `json:"key"`
	Layer    ocispec.Descriptor `json:"layer"`
	DiffID   digest.Digest      `json:"diffID"`
	Recorded time.Time          `json:"recorded"`
}

// PutLayer records that a push of the group of entries whose fingerprint
// is fp built the layer desc, of uncompressed digest diffID.
func (c *Cache) PutLayer(fp string, desc ocispec.Descriptor, diffID digest.Digest) error {
	rec := layerRecord{Kind: KindLayer, Key: fp, Layer: desc, DiffID: diffID, Recorded: time.Now().UTC()}
	if err := rec.check(); err != nil {
		return err
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if len(fp) == 0 || len(data) > maxTagSize {
		return fmt.Errorf("cache: layer key of %d bytes is empty or too long", len(fp))
	}
	if err := c.writeAtomic(layerPath(fp), append(data, '\n')); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	return nil
}

// Layer returns the layer recorded for the group fingerprint fp. A record
// this user did not write (another owner, open to others) is removed, as
// every file of the cache is, and a miss; so is one filed under another
// key, or malformed.
func (c *Cache) Layer(fp string) (desc ocispec.Descriptor, diffID digest.Digest, ok bool) {
	name := layerPath(fp)
	rec, err := readRecord[layerRecord](c, name)
	if err == nil && rec.Key != fp {
		err = fmt.Errorf("%w: layer record for %q filed under %q", errCorrupt, rec.Key, fp)
	}
	if err != nil {
		if errors.Is(err, errCorrupt) {
			c.removeFiles(name)
		}
		return ocispec.Descriptor{}, "", false
	}
	c.touch(name)
	return rec.Layer, rec.DiffID, true
}

func (r layerRecord) check() error {
	if r.Kind != KindLayer {
		return fmt.Errorf("cache: %s record %q read as a layer record", r.Kind, r.Key)
	}
	if r.Recorded.IsZero() {
		return fmt.Errorf("cache: layer %q: no time recorded", r.Key)
	}
	if err := r.DiffID.Validate(); err != nil {
		return fmt.Errorf("cache: layer %q: %w: diffID %q: %v", r.Key, ErrInvalidDigest, string(r.DiffID), err)
	}
	return tagRecord{Key: r.Key, Digest: r.Layer.Digest, MediaType: r.Layer.MediaType, Size: r.Layer.Size, Resolved: r.Recorded}.check()
}

func layerPath(key string) string { return recordPath(layersDir, key) }

// layerEntries lists the layer records, for Info and Prune.
func (c *Cache) layerEntries() ([]EntryInfo, error) {
	return c.listRecords(layersDir, KindLayer, func(p string, e *EntryInfo) {
		if rec, err := readRecord[layerRecord](c, p); err == nil {
			e.Digest, e.Key = rec.Layer.Digest, rec.Key
		}
	})
}
