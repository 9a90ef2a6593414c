package blobber

import (
	"sync/atomic"

	"github.com/blobber-dev/blobber/internal/push"
)

// counters count what a Client did that its results do not show, so that
// tests can assert on these outcomes rather than on log text (see
// export_test.go).
type counters struct {
	layersBuilt      atomic.Int64  // layers Push built
	push             push.Counters // what the push policy decided: reuses, early uploads
	cacheWriteErrors atomic.Int64  // failed cache writes reported (the cache reports only its first)
}
