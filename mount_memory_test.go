package blobber

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/toc"
)

// mountFilesFixture pushes files files of chunks chunks of chunk random
// bytes each and opens the artifact.
func mountFilesFixture(t *testing.T, files, chunks, chunk int) (*Image, []*toc.Entry, [][]byte) {
	t.Helper()
	reg := registrytest.Start(t)
	ctx := context.Background()
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(7, 8))
	var all [][]byte
	for f := range files {
		data := make([]byte, chunks*chunk)
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%03d.bin", f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
		all = append(all, data)
	}
	c, err := NewClient(WithConcurrency(4))
	if err != nil {
		t.Fatal(err)
	}
	ref := reg.Host() + "/mount/memory:v1"
	if _, err := c.Push(ctx, ref, os.DirFS(dir), WithChunkSize(chunk)); err != nil {
		t.Fatal(err)
	}
	img, err := c.Open(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	var entries []*toc.Entry
	for f := range files {
		e, err := img.lookup("open", fmt.Sprintf("f%03d.bin", f), true)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, e)
	}
	return img, entries, all
}

// readAllConcurrently reads every file through its own reader of mem, all
// files at once, each as the kernel reads a file in order: batches of
// reads of size read sent together, taken in any order. It fails the test
// if the reads have not all ended within a minute: reads waiting on one
// another for room would never end.
func readAllConcurrently(t *testing.T, img *Image, mem *mountMemory, entries []*toc.Entry, want [][]byte, read int) {
	t.Helper()
	var wg sync.WaitGroup
	for f, e := range entries {
		wg.Go(func() {
			r := mem.newReader(img, e)
			defer r.Close()
			got := make([]byte, len(want[f]))
			shuffle := rand.New(rand.NewPCG(uint64(f), 9))
			for off := 0; off < len(got); off += 4 * read {
				var batch sync.WaitGroup
				for _, k := range shuffle.Perm(4) {
					at := off + k*read
					if at >= len(got) {
						continue
					}
					batch.Go(func() {
						end := min(at+read, len(got))
						if _, err := r.ReadAt(got[at:end], int64(at)); err != nil {
							t.Errorf("%s at %d: %v", e.Name, at, err)
						}
					})
				}
				batch.Wait()
			}
			if !bytes.Equal(got, want[f]) {
				t.Errorf("%s: read other bytes than the file's", e.Name)
			}
		})
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("reads still waiting after a minute: deadlocked")
	}
}

// The chunks of all the files open on a mount share one budget: files
// read at once, each read ahead, hold no more than it between them, and
// none waits forever for room.
func TestMountMemoryIsOneBudgetForAllOpenFiles(t *testing.T) {
	const files, chunks, chunk = 4, 24, 256 << 10
	img, entries, want := mountFilesFixture(t, files, chunks, chunk)
	// Room for a few chunks of each file, far less than what the files
	// would take each with a budget of its own.
	const budget = 12 * chunk
	mem := newMountMemory(budget)
	readAllConcurrently(t, img, mem, entries, want, 64<<10)
	mem.mu.Lock()
	defer mem.mu.Unlock()
	t.Logf("%d files of %d chunks: %d chunks fetched, %d bytes held at most, budget %d", files, chunks, mem.fetched, mem.peak, budget)
	if mem.peak > budget {
		t.Errorf("the open files held %d bytes of chunks at most, over the mount's budget of %d", mem.peak, budget)
	}
	if mem.fetched < files*chunks {
		t.Errorf("%d chunks fetched for %d", mem.fetched, files*chunks)
	}
	if len(mem.readers) != 0 || mem.busy != 0 || len(mem.free) != 0 || mem.held != 0 {
		t.Errorf("after every file closed: %d readers, %d chunks busy, %d free buffers, %d bytes held; want none",
			len(mem.readers), mem.busy, len(mem.free), mem.held)
	}
}

// Many files read at once, with reads that each span two chunks, through
// a budget that holds two chunks at most, and through one that holds a
// single chunk (each read then fetches its chunks one at a time): every
// read ends, with the file's bytes, within the budget.
func TestMountMemoryTightBudgetsNeverDeadlock(t *testing.T) {
	const files, chunks, chunk = 12, 6, 64 << 10
	img, entries, want := mountFilesFixture(t, files, chunks, chunk)
	// A chunk takes two buffers of 128 KiB while it is fetched.
	for _, budget := range []int64{4 * (chunk + mountBufferAlign), 6 * chunk} {
		t.Run(fmt.Sprint(budget), func(t *testing.T) {
			mem := newMountMemory(budget)
			// Reads of a chunk and a half, not aligned to chunks.
			readAllConcurrently(t, img, mem, entries, want, chunk+chunk/2)
			mem.mu.Lock()
			defer mem.mu.Unlock()
			if mem.peak > budget {
				t.Errorf("held %d bytes at most, over the budget of %d", mem.peak, budget)
			}
		})
	}
}
