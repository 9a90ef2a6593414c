package layer

import (
	"fmt"
	"io"
	"math/rand"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/blobber-dev/blobber/internal/compression"
)

// The bytes a build holds in flight are bounded by its budget, whatever
// its number of workers, for a tree of chunk-sized incompressible files
// mixed with small ones: counting batches let each worker hold a chunk and
// its compressed copy, and a pool of buffers of every size gave small
// files' members chunk-sized buffers.
func TestBuildMemoryIsBoundedByBytes(t *testing.T) {
	if testing.Short() || raceEnabled() {
		t.Skip("builds a layer of tens of MiB")
	}
	big := make([]byte, DefaultChunkSize+DefaultChunkSize/2)
	rand.New(rand.NewSource(1)).Read(big)
	tree := fstest.MapFS{}
	for i := range 16 {
		tree[fmt.Sprintf("big/%02d", i)] = &fstest.MapFile{Data: big, Mode: 0o644}
		for j := range 40 {
			tree[fmt.Sprintf("small/%02d/%02d", i, j)] = &fstest.MapFile{Data: big[j*3000 : j*3000+1000+j*100], Mode: 0o644}
		}
	}
	for _, comp := range []compression.Compression{compression.Gzip, compression.Zstd} {
		t.Run(string(comp), func(t *testing.T) {
			defer debug.SetGCPercent(debug.SetGCPercent(5))
			sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
			live := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
			runtime.GC()
			base := live()
			var peak uint64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Go(func() {
				for {
					peak = max(peak, live())
					select {
					case <-stop:
						return
					case <-time.After(time.Millisecond):
					}
				}
			})
			_, err := Build(t.Context(), tree, io.Discard, Options{Compression: comp, Workers: 8, TempDir: t.TempDir()})
			close(stop)
			wg.Wait()
			if err != nil {
				t.Fatal(err)
			}
			peak -= min(peak, base)
			budget := newBuildBudget(DefaultChunkSize, 8).limit
			t.Logf("peak live heap of the build: %d KiB (budget %d KiB)", peak>>10, budget>>10)
			// The budget, the kept buffers, the batch being filled and the
			// encoders; zstd's keep some history each, one per worker busy.
			limit := uint64(budget) + uint64(newBufferPool(int64(budget)).limit) + 4<<20
			if comp == compression.Zstd {
				limit += 16 << 20
			}
			if peak > limit {
				t.Errorf("peak live heap of the build: %d KiB, want at most %d KiB", peak>>10, limit>>10)
			}
		})
	}
}
