package blobber

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/blobber-dev/blobber/internal/registrytest"
)

// A file read holds at most its byte budget of chunks, whatever the
// concurrency, and still makes progress when one chunk is bigger than the
// whole budget.
func TestFileReadHoldsBoundedBytes(t *testing.T) {
	const chunk = 1 << 20
	reg := registrytest.Start(t)
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "big.bin"), make([]byte, 32*chunk), 0o644); err != nil {
		t.Fatal(err)
	}
	ref := reg.Host() + "/bounds/big-chunks:v1"
	c, err := NewClient(WithConcurrency(32))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Push(ctx, ref, os.DirFS(dir), WithChunkSize(chunk)); err != nil {
		t.Fatal(err)
	}
	for _, budget := range []int64{8 * chunk, chunk / 2} {
		c.opts.streamBudget = budget
		img, err := c.Open(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		e, err := img.lookup("open", "big.bin", true)
		if err != nil {
			t.Fatal(err)
		}
		var cost int64 // of the costliest chunk: a lone chunk may exceed the budget
		for _, c := range e.Chunks() {
			cost = max(cost, img.chunkCost(c))
		}
		s := img.newChunkStream(e, 0, c.opts.concurrency, false)
		n, err := io.Copy(io.Discard, onlyReader{s})
		s.Close()
		img.Close()
		if err != nil || n != 32*chunk {
			t.Fatalf("budget %d: read %d bytes: %v", budget, n, err)
		}
		switch {
		case s.peak > max(budget, cost):
			t.Errorf("budget %d: %d bytes of chunks held at once (%d chunks of %d)", budget, s.peak, s.peak/cost, cost)
		case budget >= 2*cost && s.peak < 2*cost:
			t.Errorf("budget %d: at most %d bytes held: no chunk was fetched ahead", budget, s.peak)
		}
	}
}
