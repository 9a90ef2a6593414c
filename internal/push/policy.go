// Package push decides how little a push can do: whether a tree pushed
// before is tagged again instead of rebuilt (its fingerprint, and a check
// that the earlier layer holds this very tree), whether its layer is
// uploaded while it is built (its shape, the tag), and from which other
// repository of the registry a blob can be mounted instead of uploaded.
// What it decides from is what the cache remembers of earlier pushes and
// reads.
package push

import (
	"log/slog"
	"sync/atomic"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/blobber-dev/blobber/internal/cache"
	"github.com/blobber-dev/blobber/internal/compression"
	"github.com/blobber-dev/blobber/internal/toc"
)

// Policy is one client's push policy. Its zero Cache (no cache) makes it
// remember nothing and reuse nothing.
type Policy struct {
	Cache  *cache.Cache
	Logger *slog.Logger
	// Limits bound the TOC of an earlier build read back to check it.
	Limits toc.Limits
	// ParseManifest reads the one eStargz layer of a manifest (raw, its
	// bytes, checked against desc), or fails for any other manifest.
	ParseManifest func(name string, desc ocispec.Descriptor, raw []byte) (Layer, error)
	// Counts counts what the policy decided (required).
	Counts *Counters
}

// Layer is a manifest's eStargz layer, as the reuse check reads it.
type Layer struct {
	Desc        ocispec.Descriptor
	Compression compression.Compression
	TOCDigest   digest.Digest
}

// Counters count the outcomes of the policy that a push's result does not
// show, for the client's counters.
type Counters struct {
	ReusedPushes        atomic.Int64 // pushes that tagged an earlier build of the same tree
	RefusedRecords      atomic.Int64 // fingerprint records found not to describe the tree (or the layer's group)
	ReusedLayers        atomic.Int64 // layers of a split push reused from an earlier build of their group
	EarlyUploadsDropped atomic.Int64 // uploads begun while building, dropped: the registry had the layer
	EarlyUploadsFailed  atomic.Int64 // uploads begun while building that failed: the layer went after
}

// Meter counts the bytes of an upload, for progress.
type Meter interface {
	Add(n int64)
	SetTotal(total int64)
}
