package pull

import (
	"context"
	"unsafe"

	"golang.org/x/sync/semaphore"

	"github.com/blobber-dev/blobber/internal/toc"
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
// never more bytes. A pull of a large index takes less (see sizingFor).
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

// pullHeapBound is what a pull's index, its list of chunks and the
// buffers of its budget hold together where the index leaves room: the
// bound that matters is the process's, and an index of hundreds of
// thousands of files holds more than the whole budget. It is the CLI's
// soft memory limit less room for the rest of the heap (the decoders, the
// files being written, what the collector has not freed yet), so that a
// pull of a tree of that many files keeps its heap near the limit rather
// than past it, where the collector would run without pause.
const pullHeapBound = 34 << 20

// Segment sizes: the most a segment fetches, and the least once a large
// index has shrunk the budget (see sizingBeside). Smaller segments cost
// more requests but let several run within a small budget, while others'
// files are written.
const (
	segmentTarget    = 4 << 20
	minSegmentTarget = 512 << 10
)

// segmentsInFlight is how many segments of small files the budget is
// sized to hold at once: the default concurrency of a small machine.
const segmentsInFlight = 4

// minPullBudget is room for two of the smallest segments with their
// chunks decoded (zstd's window too), so that a pull goes on in parallel
// however large its index.
const minPullBudget = 2 * (minSegmentTarget + segmentSlack + 2*decodedStep)

// sizing is how much a pull of an artifact holds: its budget, and the
// size of its segments.
type sizing struct {
	budget, segment int64
}

// sizingFor sizes a pull by what its index and its list of chunks already
// hold.
func sizingFor(ix *toc.Index, chunks []chunkRef) sizing {
	return sizingBeside(ix.HeapBytes() + int64(cap(chunks))*int64(unsafe.Sizeof(chunkRef{})))
}

// sizingBeside sizes a pull beside an index (and list of chunks) of
// indexBytes: the budget is what they leave of pullHeapBound, and the
// segments are cut so that
// segmentsInFlight of small files fit in it, each with its buffer's slack
// and its decoded chunks (the whole budget gives segments of
// segmentTarget).
func sizingBeside(indexBytes int64) sizing {
	budget := min(PullBudget, max(minPullBudget, pullHeapBound-indexBytes))
	segment := budget/segmentsInFlight - segmentSlack - decodedStep
	return sizing{budget: budget, segment: min(segmentTarget, max(minSegmentTarget, segment))}
}

// bufferSize is the least capacity of a segment's buffer, so that one made
// for a short segment serves the next, longer one (a chunk's compressed
// bytes may pass the segment's size by a little).
func (s sizing) bufferSize() int64 { return s.segment + segmentSlack }

// segmentSlack is how far a segment's buffer may pass its size.
const segmentSlack = 128 << 10
