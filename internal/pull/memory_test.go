package pull

import (
	"bytes"
	"fmt"
	"math/rand"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	digest "github.com/opencontainers/go-digest"

	"github.com/blobber-dev/blobber/internal/compression"
	"github.com/blobber-dev/blobber/internal/extract"
	"github.com/blobber-dev/blobber/internal/layer"
	"github.com/blobber-dev/blobber/internal/toc"
)

// peakLiveHeap runs f while sampling the live heap (as of each collection,
// made frequent) and returns its peak above what was live before f.
func peakLiveHeap(t *testing.T, f func()) uint64 {
	t.Helper()
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
	f()
	close(stop)
	wg.Wait()
	return peak - min(peak, base)
}

// The bytes a pull holds in flight are bounded by PullBudget, not by its
// concurrency: a pull of incompressible chunk-sized files at concurrency
// 16 would otherwise hold 16 segments and their decoded chunks at once.
func TestPullMemoryIsBoundedByBytes(t *testing.T) {
	if testing.Short() || raceEnabled() {
		t.Skip("pulls a layer of tens of MiB")
	}
	for _, comp := range []compression.Compression{compression.Gzip, compression.Zstd} {
		t.Run(string(comp), func(t *testing.T) {
			content := make([]byte, layer.DefaultChunkSize+1<<20)
			rand.New(rand.NewSource(1)).Read(content)
			tree := fstest.MapFS{}
			for i := range 12 {
				tree[fmt.Sprintf("f%02d", i)] = &fstest.MapFile{Data: content, Mode: 0o644}
			}
			l := builtArtifact(t, tree, comp)
			d, err := extract.Open(filepath.Join(t.TempDir(), "out"), extract.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Abort()
			peak := peakLiveHeap(t, func() {
				if err := Into(t.Context(), d, l, Options{Concurrency: 16}); err != nil {
					t.Fatal(err)
				}
			})
			t.Logf("peak live heap of the pull: %d KiB (budget %d KiB)", peak>>10, PullBudget>>10)
			// The budget, and room for the buffers kept between segments,
			// the decoders and the index, which measure loosely on a busy
			// machine; without the budget it is several times the budget.
			if limit := uint64(PullBudget + 12<<20); peak > limit {
				t.Errorf("peak live heap of the pull: %d KiB, want at most %d KiB", peak>>10, limit>>10)
			}
		})
	}
}

// builtArtifact builds tree into one layer, in memory, and returns it as
// the pull takes it.
func builtArtifact(t *testing.T, tree fstest.MapFS, comp compression.Compression) Artifact {
	t.Helper()
	var blob bytes.Buffer
	res, err := layer.Build(t.Context(), tree, &blob, layer.Options{Compression: comp, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ix, err := toc.Read(t.Context(), bytes.NewReader(blob.Bytes()), int64(blob.Len()), comp, res.TOCDigest,
		toc.Limits{MaxEntries: 100, MaxBytes: 1 << 30, MaxTOCBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return Artifact{Index: ix, Layers: []Layer{{Data: bytes.NewReader(blob.Bytes()), Digest: digest.FromBytes(blob.Bytes()), Size: int64(blob.Len())}}}
}

func raceEnabled() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}
