package blobber

import "sync/atomic"

// counters count what a Client did that its results do not show, so that
// tests can assert on these outcomes rather than on log text (see
// export_test.go).
type counters struct {
	layersBuilt         atomic.Int64 // layers Push built
	reusedPushes        atomic.Int64 // pushes that tagged an earlier build of the same tree
	refusedRecords      atomic.Int64 // fingerprint records found not to describe the tree
	earlyUploadsDropped atomic.Int64 // uploads begun while building, dropped: the registry had the layer
	earlyUploadsFailed  atomic.Int64 // uploads begun while building that failed: the layer went after
	cacheWriteErrors    atomic.Int64 // failed cache writes reported (the cache reports only its first)
}
