package blobber

import (
	"sync/atomic"

	"github.com/blobber-dev/blobber/internal/cache"
	"github.com/blobber-dev/blobber/internal/target"
)

// ReadStats says how much of an artifact's layers an Image has fetched
// from the registry (what the cache served is not counted).
type ReadStats struct {
	Requests  int64 // range reads of the layers (the TOCs' included)
	Bytes     int64 // layer bytes fetched
	LayerSize int64 // the layers' whole size
}

// Stats reports what this Image has fetched so far.
func (img *Image) Stats() ReadStats {
	return ReadStats{
		Requests:  img.fetched.reads.Load(),
		Bytes:     img.fetched.bytes.Load(),
		LayerSize: img.index.BlobSize,
	}
}

// readCounts is what was read from the registry.
type readCounts struct {
	reads, bytes atomic.Int64
}

// countingBlob counts what is read through it. Without a remote (offline)
// every read fails.
type countingBlob struct {
	remote target.ReadBlob
	counts *readCounts
}

func (c *countingBlob) Close() error {
	if c.remote == nil {
		return nil
	}
	return c.remote.Close()
}

// ReadAhead tells the remote that [off, off+n) will be read in order.
func (c *countingBlob) ReadAhead(off, n int64) { readAhead(c.remote, off, n) }

func (c *countingBlob) ReadAt(p []byte, off int64) (int, error) {
	if c.remote == nil {
		return 0, cache.ErrOffline
	}
	n, err := c.remote.ReadAt(p, off)
	c.counts.reads.Add(1)
	c.counts.bytes.Add(int64(n))
	return n, err
}
