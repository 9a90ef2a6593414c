package pull

import "github.com/blobber-dev/blobber/internal/cache"

// The cache offers the optional methods the puller looks for by type
// assertion: a rename on either side must fail to build, not silently
// turn off the refetch of bad cached bytes or the promotion of a pulled
// layer.
var (
	_ invalidator = (*cache.Blob)(nil)
	_ promoter    = (*cache.Blob)(nil)
)
