package pull

import (
	"context"

	"golang.org/x/sync/semaphore"
)

// StreamBudget is how many bytes of chunks (compressed and decoded) a
// file read holds at once, fetched ahead of its reader or being handed
// out: bounded by bytes rather than by a number of chunks, since the TOC
// decides how big a chunk is.
const StreamBudget = 64 << 20

// PullBudget is how many bytes of segments (compressed) and of the chunks
// decoded from them a pull holds at once, whatever its concurrency (see
// segmentCost): room for two segments of incompressible chunks, each with
// its chunk decoded (one per core on a small machine), and for three or
// more segments of compressible ones; the whole pull stays within a
// small, fixed memory. More concurrency runs more small segments at once,
// never more bytes.
const PullBudget = 20 << 20

// Budget bounds the bytes that work in flight holds: each piece of work
// takes its size from the budget before it starts and gives it back when
// its bytes are dropped. A piece bigger than the whole budget takes all of
// it, so it runs alone and work always makes progress. It is safe for
// concurrent use.
type Budget struct {
	limit int64
	sem   *semaphore.Weighted
}

// NewBudget returns a budget of limit bytes (at least one).
func NewBudget(limit int64) *Budget {
	limit = max(limit, 1)
	return &Budget{limit: limit, sem: semaphore.NewWeighted(limit)}
}

func (b *Budget) weight(n int64) int64 { return min(n, b.limit) }

// Acquire waits until n bytes fit, or ctx ends.
func (b *Budget) Acquire(ctx context.Context, n int64) error {
	return b.sem.Acquire(ctx, b.weight(n))
}

// TryAcquire takes n bytes if they fit now.
func (b *Budget) TryAcquire(n int64) bool { return b.sem.TryAcquire(b.weight(n)) }

// Release gives back n bytes taken before.
func (b *Budget) Release(n int64) { b.sem.Release(b.weight(n)) }
