package blobber

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/blobber-dev/blobber/internal/cache"
	"github.com/blobber-dev/blobber/internal/toc"
)

// WithCache keeps blobs (by byte range), manifests and resolved tags in
// dir, shared safely with other blobber processes: a second read of the
// same chunks, the same TOC or a whole pulled layer costs no network. The
// CLI's cache is $BLOBBER_CACHE_DIR, else $XDG_CACHE_HOME/blobber, else
// ~/.cache/blobber: pass the same directory to share it. Without this
// option the client caches nothing.
//
// A directory that cannot be opened, or that another user owns or could
// write (where planted records would be trusted), is not used: the client
// logs a warning (see WithLogger) and works without a cache, except
// offline, where NewClient fails. A write to the cache that fails is
// logged once, and reads go on from the registry.
func WithCache(dir string) Option {
	return func(o *options) error {
		if dir == "" {
			return invalidOption("WithCache: no directory named")
		}
		o.cacheDir = dir
		return nil
	}
}

// WithCacheMaxSize bounds the cache (see WithCache) to n bytes: past the
// bound, the least recently used entries are pruned as the client writes.
// n == 0 (or no such option) takes the default, 10 GiB or a tenth of the
// cache's file system, whichever is smaller; n < 0 sets no bound.
func WithCacheMaxSize(n int64) Option {
	return func(o *options) error { o.cacheBound = n; return nil }
}

// WithCacheTTL trusts a tag's cached resolution for d before asking the
// registry again. The default, 0, always asks (a cheap HEAD request) so a
// moved tag is seen at once. d cannot be negative.
func WithCacheTTL(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return invalidOption("WithCacheTTL(%v): a time to trust a tag cannot be negative", d)
		}
		o.cacheTTL = d
		return nil
	}
}

// WithOffline reads only from the cache (see WithCache): no request is
// made, and anything not cached is ErrNotFound.
func WithOffline() Option {
	return func(o *options) error { o.offline = true; return nil }
}

func (c *Client) openCache() error {
	if c.opts.cacheDir == "" {
		if c.opts.offline {
			return errors.New("offline mode needs a cache (WithCache)")
		}
		return nil
	}
	cc, err := cache.Open(c.opts.cacheDir)
	if err != nil {
		if c.opts.offline {
			return fmt.Errorf("offline mode needs the cache, which cannot be used: %w", err)
		}
		// A cache only saves requests: without one, every command still
		// works, from the registry.
		c.opts.logger.Warn("not using the cache", "dir", c.opts.cacheDir, "error", err)
		return nil
	}
	switch n := c.opts.cacheBound; {
	case n == 0:
		cc.SetMaxSize(cache.DefaultMaxSizeFor(c.opts.cacheDir))
	case n > 0:
		cc.SetMaxSize(n)
	}
	cc.OnWriteError(func(err error) {
		c.stats.cacheWriteErrors.Add(1)
		c.opts.logger.Warn("cannot write to the cache; going on without caching", "dir", c.opts.cacheDir, "error", err)
	})
	c.cache = cc
	return nil
}

// tagMaxAge is how old a cached tag may be and still be used.
func (c *Client) tagMaxAge() time.Duration {
	if c.opts.offline {
		return -1
	}
	return c.opts.cacheTTL
}

// layerReader is the layer as the read side sees it: the network, or the
// cache in front of it.
type layerReader interface {
	io.ReaderAt
	io.Closer
}

// readAhead tells r, if it can be told, that [off, off+n) will be read in
// order, one read after another (fetch.Blob.ReadAhead).
func readAhead(r any, off, n int64) {
	if a, ok := r.(interface{ ReadAhead(off, n int64) }); ok {
		a.ReadAhead(off, n)
	}
}

// invalidator is a layer reader that can forget bytes it served (the
// cache), so that the next read of them goes to the registry.
type invalidator interface {
	Invalidate(off, n int64) error
}

// retryUncached runs read of the given layer; if it found bytes that do
// not verify and they may have come from the cache, it drops them from the
// cache and reads once more, from the registry.
func (img *Image) retryUncached(layer int, off, n int64, read func() error) error {
	err := read()
	inv, cached := img.layers[layer].(invalidator)
	if err != nil && cached && errors.Is(err, toc.ErrDigestMismatch) {
		img.client.opts.logger.Warn("cached bytes did not verify; fetching them again", "artifact", img.name, "offset", off, "length", n)
		if ierr := inv.Invalidate(off, n); ierr == nil {
			err = read()
		}
	}
	return err
}

// fetchChunk reads and verifies one chunk, from the layer that holds it.
func (img *Image) fetchChunk(c toc.Chunk, dst []byte) ([]byte, error) {
	return img.fetchChunkFrom(img.layers[c.Layer], c, dst)
}

// fetchChunkFrom is fetchChunk through r, a reader of the chunk's layer.
func (img *Image) fetchChunkFrom(r io.ReaderAt, c toc.Chunk, dst []byte) ([]byte, error) {
	var data []byte
	err := img.retryUncached(int(c.Layer), c.Offset, img.index.Need(c), func() (err error) {
		data, err = img.index.Fetch(r, c, dst)
		return err
	})
	return data, err
}
