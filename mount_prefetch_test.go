package blobber

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/toc"
)

// mountReaderFixture pushes a file of chunks chunks of chunk bytes each
// (random, so that compressed and decoded sizes are alike) through a
// counting proxy and opens it.
func mountReaderFixture(t *testing.T, chunks, chunk int) (*Image, *toc.Entry, []byte, *registrytest.Proxy) {
	t.Helper()
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	dir := t.TempDir()
	data := make([]byte, chunks*chunk)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	if err := os.WriteFile(filepath.Join(dir, "big.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(WithConcurrency(4))
	if err != nil {
		t.Fatal(err)
	}
	ref := proxy.Host() + "/mount/prefetch:v1"
	if _, err := c.Push(ctx, ref, os.DirFS(dir), WithChunkSize(chunk)); err != nil {
		t.Fatal(err)
	}
	img, err := c.Open(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	e, err := img.lookup("open", "big.bin", true)
	if err != nil {
		t.Fatal(err)
	}
	if e.NumChunks() != chunks {
		t.Fatalf("%d chunks, want %d", e.NumChunks(), chunks)
	}
	proxy.Reset()
	return img, e, data, proxy
}

// A sequential reader whose reads arrive as the kernel's readahead sends
// them, several at once and out of order, gets every byte right while
// each chunk is fetched once, ahead of the reads, and the bytes held stay
// within the budget.
func TestMountReaderPrefetchesSequentialReadsOnce(t *testing.T) {
	const chunks, chunk, read = 96, 256 << 10, 64 << 10
	img, e, data, proxy := mountReaderFixture(t, chunks, chunk)
	// Less than the file, more than the chunks kept behind a sequential
	// read for the reads sent before it (mountReorderWindow).
	const budget = 48 * chunk
	mem := newMountMemory(budget)
	r := mem.newReader(img, e)
	defer r.Close()

	// The first two chunks, one read at a time: the chunks after them are
	// fetched meanwhile.
	got := make([]byte, len(data))
	off := 0
	for ; off < 2*chunk; off += read {
		if _, err := r.ReadAt(got[off:off+read], int64(off)); err != nil {
			t.Fatal(err)
		}
	}
	mem.mu.Lock()
	ahead := mem.fetched
	mem.mu.Unlock()
	if ahead <= 2 {
		t.Errorf("after reading 2 chunks in order, %d chunks fetched: none ahead", ahead)
	}

	// The rest in batches of 8 reads sent at once, in any order.
	shuffle := rand.New(rand.NewPCG(3, 4))
	for ; off < len(data); off += 8 * read {
		var wg sync.WaitGroup
		for _, k := range shuffle.Perm(8) {
			at := off + k*read
			wg.Go(func() {
				if _, err := r.ReadAt(got[at:at+read], int64(at)); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	if !bytes.Equal(got, data) {
		t.Fatal("read other bytes than the file's")
	}
	mem.mu.Lock()
	fetched, peak, held := mem.fetched, mem.peak, mem.held
	mem.mu.Unlock()
	if fetched != chunks {
		t.Errorf("%d chunk fetches for %d chunks, want each once", fetched, chunks)
	}
	if peak > budget {
		t.Errorf("%d bytes held at most, budget %d", peak, budget)
	}
	if held > peak {
		t.Errorf("held %d after the reads, more than the peak %d", held, peak)
	}
	if st := proxy.Stats(); st.BlobRequests > chunks {
		t.Errorf("%d blob requests for %d chunks", st.BlobRequests, chunks)
	}
}

// Reads here and there fetch just the chunks they cover, nothing ahead,
// also through a budget that holds just one chunk (a chunk bigger than the
// budget is refused: mount_room_test.go).
func TestMountReaderRandomReadsFetchOnlyTheirChunks(t *testing.T) {
	const chunks, chunk = 32, 256 << 10
	img, e, data, proxy := mountReaderFixture(t, chunks, chunk)
	for _, budget := range []int64{64 << 20, chunkRoom(img, e.Chunk(0))} {
		mem := newMountMemory(budget)
		r := mem.newReader(img, e)
		proxy.Reset()
		for _, at := range []int{10*chunk + 100, 25 * chunk, 3*chunk + chunk - 4096, 17*chunk + 5} {
			p := make([]byte, 4096)
			n, err := r.ReadAt(p, int64(at))
			if err != nil || n != len(p) || !bytes.Equal(p, data[at:at+n]) {
				t.Fatalf("budget %d: read at %d: %d bytes, %v, or other bytes", budget, at, n, err)
			}
		}
		mem.mu.Lock()
		fetched := mem.fetched
		mem.mu.Unlock()
		r.Close()
		if fetched != 4 {
			t.Errorf("budget %d: 4 reads in 4 chunks fetched %d chunks", budget, fetched)
		}
		if st := proxy.Stats(); st.BlobBytes > 4*(chunk+chunk/8) {
			t.Errorf("budget %d: 4 reads of 4 KiB fetched %d bytes of blob, more than their 4 chunks", budget, st.BlobBytes)
		}
	}
}

// A chunk that does not verify fails the reads that wanted it, and is not
// kept: a later read fetches it again.
func TestMountReaderRefetchesAFailedChunk(t *testing.T) {
	const chunks, chunk = 4, 256 << 10
	img, e, data, proxy := mountReaderFixture(t, chunks, chunk)
	r := newMountMemory(mountBudget).newReader(img, e)
	defer r.Close()
	proxy.SetFaults(func(req *http.Request) *registrytest.Fault {
		if req.Method == http.MethodGet && strings.Contains(req.URL.Path, "/blobs/") {
			return &registrytest.Fault{FlipFirstByte: true}
		}
		return nil
	})
	p := make([]byte, 4096)
	if _, err := r.ReadAt(p, chunk); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("reading a corrupted chunk: %v, want ErrDigestMismatch", err)
	}
	proxy.SetFaults(nil)
	if _, err := r.ReadAt(p, chunk); err != nil || !bytes.Equal(p, data[chunk:chunk+4096]) {
		t.Fatalf("reading the chunk again: %v, or other bytes", err)
	}
}
