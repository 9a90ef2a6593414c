package blobber

import (
	"time"

	digest "github.com/opencontainers/go-digest"

	"github.com/blobber-dev/blobber/internal/cache"
)

// Cache is a cache directory (see WithCache) opened to be looked at or
// trimmed, while clients of this and other processes may be using it.
type Cache struct {
	c *cache.Cache
}

// DefaultCacheDir is where the blobber CLI keeps its cache:
// $BLOBBER_CACHE_DIR, else $XDG_CACHE_HOME/blobber, else ~/.cache/blobber.
func DefaultCacheDir() (string, error) { return cache.DefaultDir() }

// DefaultCacheMaxSize is the bound a client puts on a cache in dir when
// WithCacheMaxSize does not set one: 10 GiB, or a tenth of its file system,
// whichever is smaller.
func DefaultCacheMaxSize(dir string) int64 { return cache.DefaultMaxSizeFor(dir) }

// OpenCache opens the cache in dir, creating it if needed. It refuses a
// directory another user owns or could write, as WithCache does.
func OpenCache(dir string) (*Cache, error) {
	c, err := cache.Open(dir)
	if err != nil {
		return nil, err
	}
	return &Cache{c: c}, nil
}

// Close releases the directory.
func (c *Cache) Close() error { return c.c.Close() }

// Dir is the cache's directory.
func (c *Cache) Dir() string { return c.c.Dir() }

// CacheInfo describes what a cache holds.
type CacheInfo struct {
	Dir          string
	Blobs        int   // complete blobs
	PartialBlobs int   // blobs of which only some byte ranges are kept
	StalePartial int   // partial blobs a killed process left unusable (Prune removes them)
	Manifests    int   // manifests
	Tags         int   // resolved tags
	Trees        int   // pushed trees remembered by fingerprint
	Shapes       int   // tree shapes of layers pushed or read
	Sources      int   // blobs with known source repositories (for mounts)
	Bytes        int64 // on disk, counting only allocated blocks of sparse files
	Entries      []CacheEntry
}

// CacheEntry is one entry of a cache.
type CacheEntry struct {
	Kind     string        // "blob", "partial", "manifest", "tag" or "source"
	Digest   digest.Digest // for a tag, the digest it resolved to
	Key      string        // what a tag record is kept under; "" for other kinds
	Size     int64         // bytes on disk
	Complete bool          // false only for partial blobs
	Stale    bool          // a partial blob a killed process left unusable
	LastUsed time.Time
}

// Info counts and lists the entries of the cache, ordered by kind.
func (c *Cache) Info() (CacheInfo, error) {
	in, err := c.c.Info()
	info := CacheInfo{
		Dir: in.Dir, Blobs: in.Blobs, PartialBlobs: in.PartialBlobs, StalePartial: in.StalePartial,
		Manifests: in.Manifests, Tags: in.Tags, Trees: in.Trees, Shapes: in.Shapes, Sources: in.Sources,
		Bytes: in.Bytes,
	}
	for _, e := range in.Entries {
		info.Entries = append(info.Entries, CacheEntry{
			Kind: e.Kind, Digest: e.Digest, Key: e.Key, Size: e.Size,
			Complete: e.Complete, Stale: e.Stale, LastUsed: e.LastUsed,
		})
	}
	return info, err
}

// Prune removes what killed processes left, then the least recently used
// entries until the cache holds at most maxSize bytes and nothing unused
// for longer than maxAge (0 for either: no such limit). An entry used
// since Prune listed it is kept. It returns how many entries it removed and the
// bytes freed.
func (c *Cache) Prune(maxSize int64, maxAge time.Duration) (removed int, freed int64, err error) {
	return c.c.Prune(maxSize, maxAge)
}

// Clear removes everything from the cache.
func (c *Cache) Clear() error { return c.c.Clear() }
