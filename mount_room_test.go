package blobber

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"runtime"
	"testing"

	"github.com/blobber-dev/blobber/internal/registrytest"
	ta "github.com/blobber-dev/blobber/internal/testartifact"
	"oras.land/oras-go/v2/registry/remote"
)

// A hostile TOC declares one chunk of 64 MiB (the most a chunk may be) in
// a blob of a few hundred KiB: its zeros compress a thousandfold. Read
// through a mount, it is refused with ErrLimitExceeded before any buffer
// is taken for it, instead of being decoded alone past the mount's budget
// (which held its 64 MiB, four times the budget).
func TestMountRefusesAChunkLargerThanItsBudget(t *testing.T) {
	const size = 64 << 20
	b := ta.NewBuilder()
	b.ChunkSize = size
	if err := b.AddZeros(&tar.Header{Typeflag: tar.TypeReg, Name: "big", Mode: 0o644, Size: size}); err != nil {
		t.Fatal(err)
	}
	blob, tocDigest, _, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	reg := registrytest.Start(t)
	ctx := context.Background()
	repo, err := remote.NewRepository(reg.Host() + "/mount/bigchunk")
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	if _, err := ta.New(blob, tocDigest, "").Push(ctx, repo, "v1"); err != nil {
		t.Fatal(err)
	}
	c, err := NewClient()
	if err != nil {
		t.Fatal(err)
	}
	img, err := c.Open(ctx, reg.Host()+"/mount/bigchunk:v1")
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	e, err := img.lookup("open", "big", true)
	if err != nil {
		t.Fatal(err)
	}
	if e.NumChunks() != 1 {
		t.Fatalf("the file has %d chunks, want the one of 64 MiB", e.NumChunks())
	}
	t.Logf("a blob of %d bytes declares a chunk of %d", len(blob), size)

	mem := newMountMemory(mountBudget)
	r := mem.newReader(img, e)
	defer r.Close()
	p := make([]byte, mountMaxReadForTests)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, off := range []int64{0, size / 2} {
		if _, err := r.ReadAt(p, off); !errors.Is(err, ErrLimitExceeded) {
			t.Errorf("read at %d: %v, want ErrLimitExceeded", off, err)
		}
	}
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	mem.mu.Lock()
	defer mem.mu.Unlock()
	t.Logf("the reads allocated %d bytes; the mount held %d bytes of chunks at most, budget %d", allocated, mem.peak, mem.budget)
	if mem.peak > mem.budget || allocated > mountBudget {
		t.Errorf("reading the 64 MiB chunk allocated %d bytes and held %d of chunks, past the mount's budget of %d", allocated, mem.peak, mem.budget)
	}
}

// mountMaxReadForTests is the largest read the kernel sends a mount
// (mountMaxRead, which only the FUSE build defines).
const mountMaxReadForTests = 256 << 10

// A read spanning two chunks that the budget holds one at a time reads
// them one after the other, and stays within the budget.
func TestMountReadOfChunksWiderThanTheBudgetStaysWithinIt(t *testing.T) {
	const chunk = 64 << 10
	img, entries, want := mountFilesFixture(t, 1, 4, chunk)
	e := entries[0]
	budget := chunkRoom(img, e.Chunk(0))
	mem := newMountMemory(budget)
	r := mem.newReader(img, e)
	defer r.Close()
	p := make([]byte, chunk+chunk/2)
	if n, err := r.ReadAt(p, chunk/2); err != nil || n != len(p) || !bytes.Equal(p, want[0][chunk/2:chunk/2+len(p)]) {
		t.Fatalf("read of two chunks: %d bytes, %v, or other bytes", n, err)
	}
	mem.mu.Lock()
	defer mem.mu.Unlock()
	if mem.peak > budget {
		t.Errorf("held %d bytes of chunks at most, past the budget of %d", mem.peak, budget)
	}
}
