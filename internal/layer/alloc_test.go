package layer

import (
	"fmt"
	"io"
	"math/rand"
	"runtime"
	"testing"
	"testing/fstest"
)

// A build reuses its buffers: it allocates about what it holds at once,
// not a buffer per chunk read or compressed, which made the collector run
// all through a large push under the CLI's soft memory limit. The tree is
// large's in small: files of several chunks, and a few small ones.
func TestBuildReusesItsBuffers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a layer of a hundred MiB")
	}
	data := make([]byte, 6*DefaultChunkSize)
	rng := rand.New(rand.NewSource(3))
	for i := 0; i < len(data); i += 4096 {
		rng.Read(data[i : i+1024]) // compressible, quickly
	}
	tree := fstest.MapFS{}
	total := 0
	for i := range 4 {
		size := len(data) - i*99991
		tree[fmt.Sprintf("big/%d", i)] = &fstest.MapFile{Data: data[:size], Mode: 0o644}
		tree[fmt.Sprintf("small/%d", i)] = &fstest.MapFile{Data: data[:5000*(i+1)], Mode: 0o644}
		total += size
	}
	budget := newBuildBudget(DefaultChunkSize, 2).limit
	buffers := newBuildBuffers(budget, 0)
	opts := Options{Workers: 2, TempDir: t.TempDir(), buffers: buffers}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := Build(t.Context(), tree, io.Discard, opts); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	allocated := int64(after.TotalAlloc - before.TotalAlloc)
	made := buffers.content.made + buffers.compressed.made
	t.Logf("allocated %d KiB, %d KiB of them buffers, for %d KiB of content (budget %d KiB)",
		allocated>>10, made>>10, total>>10, budget>>10)
	// The buffers: what the budget lets be in flight, the member being
	// filled, and what the pools keep.
	if limit := 2*budget + 8<<20; made > limit {
		t.Errorf("a build of %d KiB made %d KiB of buffers, want at most %d KiB", total>>10, made>>10, limit>>10)
	}
	// Everything, the encoders among them; the process's other goroutines
	// allocate little while the tests that run beside it wait.
	if limit := int64(total) / 2; allocated > limit {
		t.Errorf("a build of %d KiB allocated %d KiB, want at most %d KiB", total>>10, allocated>>10, limit>>10)
	}
}
