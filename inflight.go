package blobber

import (
	"context"

	"golang.org/x/sync/semaphore"

	"github.com/blobber-dev/blobber/internal/toc"
)

// streamBudget is how many bytes of chunks (compressed and decoded) a
// file read holds at once, fetched ahead of its reader or being handed
// out: bounded by bytes rather than by a number of chunks, since the TOC
// decides how big a chunk is.
const streamBudget = 64 << 20

// byteBudget bounds the bytes that work in flight holds: each piece of
// work takes its size from the budget before it starts and gives it back
// when its bytes are dropped. A piece bigger than the whole budget takes
// all of it, so it runs alone and work always makes progress. It is safe
// for concurrent use.
type byteBudget struct {
	limit int64
	sem   *semaphore.Weighted
}

func newByteBudget(limit int64) *byteBudget {
	limit = max(limit, 1)
	return &byteBudget{limit: limit, sem: semaphore.NewWeighted(limit)}
}

func (b *byteBudget) weight(n int64) int64 { return min(n, b.limit) }

// acquire waits until n bytes fit, or ctx ends.
func (b *byteBudget) acquire(ctx context.Context, n int64) error {
	return b.sem.Acquire(ctx, b.weight(n))
}

// tryAcquire takes n bytes if they fit now.
func (b *byteBudget) tryAcquire(n int64) bool { return b.sem.TryAcquire(b.weight(n)) }

// release gives back n bytes taken before.
func (b *byteBudget) release(n int64) { b.sem.Release(b.weight(n)) }

// chunkCost is what reading chunk c holds in memory: its compressed bytes
// and what it decodes to (the member from its start).
func (img *Image) chunkCost(c toc.Chunk) int64 {
	return img.index.Need(c) + c.InnerOffset + c.Size
}
