package layer

import "golang.org/x/sync/semaphore"

// buildBudget bounds the bytes that the batches sent to the workers hold,
// until the ordered writer has written them: their content, and as much
// again for it compressed. Counting batches instead would let a tree of
// chunk-sized files hold several times what a tree of small files does.
type buildBudget struct {
	sem   *semaphore.Weighted
	limit int64
}

// newBuildBudget makes room for two batches of a full chunk each, being
// compressed or written, and for many more batches of small files. More
// workers share the same bytes: a build's memory does not grow with the
// machine's cores.
func newBuildBudget(chunkSize int) *buildBudget {
	limit := 2 * 2 * int64(chunkSize+batchTarget)
	return &buildBudget{sem: semaphore.NewWeighted(limit), limit: limit}
}

// cost is what b takes from the budget: a batch larger than all of it
// takes all of it, so it goes alone and the build always makes progress.
func (bb *buildBudget) cost(b *batch) int64 {
	return min(bb.limit, 2*int64(b.size)+1)
}
