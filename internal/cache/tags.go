package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	digest "github.com/opencontainers/go-digest"
)

// tagRecord is what a tag resolved to, and when. The key is kept so a
// record can be checked against the name it is filed under, and listed.
type tagRecord struct {
	Key       string        `json:"key"`
	Digest    digest.Digest `json:"digest"`
	MediaType string        `json:"mediaType"`
	Size      int64         `json:"size"`
	Resolved  time.Time     `json:"resolved"`
}

const maxTagSize = 64 << 10

// Keys are hashed into file names, so a key can hold any bytes (a layout
// path, a registry with a port) without spelling a path.
func tagPath(key string) string {
	sum := sha256.Sum256([]byte(key))
	return tagsDir + "/" + hex.EncodeToString(sum[:]) + ".json"
}

// PutTag records that key ("registry/repo:tag", or a layout path and tag)
// resolved now to the descriptor dgst, mediaType, size.
func (c *Cache) PutTag(key string, dgst digest.Digest, mediaType string, size int64) error {
	rec := tagRecord{Key: key, Digest: dgst, MediaType: mediaType, Size: size, Resolved: time.Now().UTC()}
	if err := rec.check(); err != nil {
		return err
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if len(key) == 0 || len(data) > maxTagSize {
		return fmt.Errorf("cache: tag key of %d bytes is empty or too long", len(key))
	}
	if err := c.writeAtomic(tagPath(key), append(data, '\n')); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	return nil
}

// Tag returns what key was last resolved to, if that was at most maxAge
// ago. A negative maxAge accepts any age (offline); zero accepts none,
// for callers that must always resolve.
func (c *Cache) Tag(key string, maxAge time.Duration) (dgst digest.Digest, mediaType string, size int64, ok bool) {
	if maxAge == 0 {
		return "", "", 0, false
	}
	name := tagPath(key)
	rec, err := c.readTag(name)
	if err == nil && rec.Key != key {
		err = fmt.Errorf("%w: tag record for %q filed under %q", errCorrupt, rec.Key, key)
	}
	if err != nil {
		if errors.Is(err, errCorrupt) {
			c.removeFiles(name)
		}
		return "", "", 0, false
	}
	// A record from the future (a clock set back) counts as fresh:
	// refusing it would only force a resolve, but so would its age.
	if maxAge > 0 && time.Since(rec.Resolved) > maxAge {
		return "", "", 0, false
	}
	c.touch(name)
	return rec.Digest, rec.MediaType, rec.Size, true
}

func (c *Cache) readTag(name string) (tagRecord, error) { return readRecord[tagRecord](c, name) }

// readRecord reads the small JSON record name (a tag's, a tree's) and
// checks it: one that does not parse or check is errCorrupt.
func readRecord[R interface{ check() error }](c *Cache, name string) (R, error) {
	var rec R
	data, err := c.readSmall(name, maxTagSize)
	if err != nil {
		return rec, err
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		return rec, fmt.Errorf("%w: %s: %v", errCorrupt, name, err)
	}
	if err := rec.check(); err != nil {
		return rec, fmt.Errorf("%w: %s: %v", errCorrupt, name, err)
	}
	return rec, nil
}

func (r tagRecord) check() error {
	if err := r.Digest.Validate(); err != nil {
		return fmt.Errorf("cache: tag %q: %w: %q: %v", r.Key, ErrInvalidDigest, string(r.Digest), err)
	}
	if r.Size < 0 {
		return fmt.Errorf("cache: tag %q: negative size %d", r.Key, r.Size)
	}
	if r.Resolved.IsZero() {
		return fmt.Errorf("cache: tag %q: no resolution time", r.Key)
	}
	return checkMediaType(r.MediaType)
}
