package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	digest "github.com/opencontainers/go-digest"
)

// Records about trees, each kind in a directory of its own, so that no
// record is ever read as another kind (a tag, or a tree of the other kind):
// a fingerprint (a tree's metadata: names, sizes, times, inodes) names the
// manifest a push of that tree built; a shape (its files' names and sizes)
// names a manifest whose layer had it. Both are hints their users check.
//
// Caches written before these kinds kept both as tag records under keys
// starting "build:"; nothing looks such keys up any more, so they are a
// miss, and age out like any tag.
const (
	KindFingerprint = "fingerprint" // a pushed tree's fingerprint and the manifest it built
	KindShape       = "shape"       // a tree shape and a manifest whose layer had it
)

const (
	fingerprintsDir = "trees/fingerprints"
	shapesDir       = "trees/shapes"
)

var treeDirs = map[string]string{KindFingerprint: fingerprintsDir, KindShape: shapesDir}

// treeRecord is one record of a tree. Its kind and key are kept so that a
// record can be checked against the name it is filed under, and listed.
type treeRecord struct {
	Kind      string        `json:"kind"`
	Key       string        `json:"key"`
	Digest    digest.Digest `json:"digest"`
	MediaType string        `json:"mediaType"`
	Size      int64         `json:"size"`
	Recorded  time.Time     `json:"recorded"`
}

func treePath(kind, key string) string { return recordPath(treeDirs[kind], key) }

// recordPath is where a record filed under key lives in dir: named by the
// key's hash, so that any key makes one safe file name.
func recordPath(dir, key string) string {
	sum := sha256.Sum256([]byte(key))
	return dir + "/" + hex.EncodeToString(sum[:]) + ".json"
}

// listRecords is an entry of kind kind for each record file in dir;
// describe fills in its digest and key from the record, if it reads.
func (c *Cache) listRecords(dir, kind string, describe func(p string, e *EntryInfo)) ([]EntryInfo, error) {
	var out []EntryInfo
	err := c.list(dir, func(name string, fi fs.FileInfo) {
		h, ok := strings.CutSuffix(name, ".json")
		if !ok || !isHex(h) {
			return
		}
		p := dir + "/" + name
		e := EntryInfo{Kind: kind, Complete: true, Size: diskSize(fi), LastUsed: fi.ModTime(), files: []string{p}, used: p}
		describe(p, &e)
		out = append(out, e)
	})
	return out, err
}

// PutFingerprint records that a push of the tree whose fingerprint is fp
// built the manifest dgst, mediaType, size.
func (c *Cache) PutFingerprint(fp string, dgst digest.Digest, mediaType string, size int64) error {
	return c.putTree(KindFingerprint, fp, dgst, mediaType, size)
}

// Fingerprint returns the manifest recorded for the fingerprint fp.
func (c *Cache) Fingerprint(fp string) (dgst digest.Digest, mediaType string, size int64, ok bool) {
	rec, ok := c.tree(KindFingerprint, fp)
	return rec.Digest, rec.MediaType, rec.Size, ok
}

// PutShape records that the layer of the manifest dgst, mediaType, size
// has the tree shape shape.
func (c *Cache) PutShape(shape string, dgst digest.Digest, mediaType string, size int64) error {
	return c.putTree(KindShape, shape, dgst, mediaType, size)
}

// HasShape reports whether a layer of this tree shape was recorded.
func (c *Cache) HasShape(shape string) bool {
	_, ok := c.tree(KindShape, shape)
	return ok
}

func (c *Cache) putTree(kind, key string, dgst digest.Digest, mediaType string, size int64) error {
	rec := treeRecord{Kind: kind, Key: key, Digest: dgst, MediaType: mediaType, Size: size, Recorded: time.Now().UTC()}
	if err := rec.check(); err != nil {
		return err
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if len(key) == 0 || len(data) > maxTagSize {
		return fmt.Errorf("cache: %s key of %d bytes is empty or too long", kind, len(key))
	}
	if err := c.writeAtomic(treePath(kind, key), append(data, '\n')); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	return nil
}

// tree returns the record of kind filed under key; a record that is not
// one (another kind, another key, malformed) is removed, and a miss.
func (c *Cache) tree(kind, key string) (treeRecord, bool) {
	name := treePath(kind, key)
	rec, err := c.readTree(name)
	if err == nil && (rec.Kind != kind || rec.Key != key) {
		err = fmt.Errorf("%w: %s record for %q filed as a %s record under %q", errCorrupt, rec.Kind, rec.Key, kind, key)
	}
	if err != nil {
		if errors.Is(err, errCorrupt) {
			c.removeFiles(name)
		}
		return treeRecord{}, false
	}
	c.touch(name)
	return rec, true
}

func (c *Cache) readTree(name string) (treeRecord, error) { return readRecord[treeRecord](c, name) }

func (r treeRecord) check() error {
	if _, ok := treeDirs[r.Kind]; !ok {
		return fmt.Errorf("cache: record %q of unknown kind %q", r.Key, r.Kind)
	}
	if r.Recorded.IsZero() {
		return fmt.Errorf("cache: %s %q: no time recorded", r.Kind, r.Key)
	}
	return tagRecord{Key: r.Key, Digest: r.Digest, MediaType: r.MediaType, Size: r.Size, Resolved: r.Recorded}.check()
}

// treeEntries lists the records of trees, for Info and Prune.
func (c *Cache) treeEntries() ([]EntryInfo, error) {
	var out []EntryInfo
	for _, kind := range []string{KindFingerprint, KindShape} {
		entries, err := c.listRecords(treeDirs[kind], kind, func(p string, e *EntryInfo) {
			if rec, err := c.readTree(p); err == nil {
				e.Digest, e.Key = rec.Digest, rec.Key
			}
		})
		if err != nil {
			return nil, err
		}
		out = append(out, entries...)
	}
	return out, nil
}
