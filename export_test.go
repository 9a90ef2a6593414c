package blobber

// Counts is what a Client counted (counters), for the tests of package
// blobber_test.
type Counts struct {
	LayersBuilt, ReusedPushes, RefusedRecords                 int64
	EarlyUploadsDropped, EarlyUploadsFailed, CacheWriteErrors int64
}

// ClientCounts reports c's counters.
func ClientCounts(c *Client) Counts {
	return Counts{
		LayersBuilt:         c.stats.layersBuilt.Load(),
		ReusedPushes:        c.stats.reusedPushes.Load(),
		RefusedRecords:      c.stats.refusedRecords.Load(),
		EarlyUploadsDropped: c.stats.earlyUploadsDropped.Load(),
		EarlyUploadsFailed:  c.stats.earlyUploadsFailed.Load(),
		CacheWriteErrors:    c.stats.cacheWriteErrors.Load(),
	}
}

// UsesCache reports whether c reads and writes a cache: false without
// WithCache, and when the cache it was given could not be opened.
func UsesCache(c *Client) bool { return c.cache != nil }
