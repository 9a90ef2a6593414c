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
		ReusedPushes:        c.stats.push.ReusedPushes.Load(),
		RefusedRecords:      c.stats.push.RefusedRecords.Load(),
		EarlyUploadsDropped: c.stats.push.EarlyUploadsDropped.Load(),
		EarlyUploadsFailed:  c.stats.push.EarlyUploadsFailed.Load(),
		CacheWriteErrors:    c.stats.cacheWriteErrors.Load(),
	}
}

// UsesCache reports whether c reads and writes a cache: false without
// WithCache, and when the cache it was given could not be opened.
func UsesCache(c *Client) bool { return c.cache != nil }
