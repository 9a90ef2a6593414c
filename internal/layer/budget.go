package layer

import (
	"context"

	"golang.org/x/sync/semaphore"
)

// buildBudget bounds what the batches sent to the workers hold, until the
// ordered writer has written them: their bytes (their content, and as much
// again for it compressed), so that a tree of chunk-sized files holds no
// more than a tree of small ones; and their number, one per worker and
// one being written, so that many batches of headers do not pile up
// either.
type buildBudget struct {
	sem     *semaphore.Weighted
	limit   int64
	batches chan struct{}
}

// newBuildBudget makes room for two batches of a full chunk each, being
// compressed or written, and for more batches of small files. More
// workers share the same bytes: a build's memory does not grow with the
// machine's cores.
func newBuildBudget(chunkSize, workers int) *buildBudget {
	limit := 2 * 2 * int64(chunkSize+batchTarget)
	return &buildBudget{sem: semaphore.NewWeighted(limit), limit: limit, batches: make(chan struct{}, workers+1)}
}

// acquire waits until b fits, or ctx ends. A batch larger than all of the
// bytes takes all of them, so it goes alone and the build always makes
// progress.
func (bb *buildBudget) acquire(ctx context.Context, b *batch) error {
	select {
	case bb.batches <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	b.cost = min(bb.limit, 2*int64(b.size)+1)
	if err := bb.sem.Acquire(ctx, b.cost); err != nil {
		<-bb.batches
		return err
	}
	return nil
}

// release gives back what b took, once it is written.
func (bb *buildBudget) release(b *batch) {
	bb.sem.Release(b.cost)
	<-bb.batches
}
