package upload

import (
	"context"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/blobber-dev/blobber/internal/registrytest"
)

// A blob smaller than one chunk reaches the registry while it is written,
// in one PATCH that grows with it, not once the writer is done: what a
// layer smaller than the upload's chunk size, most layers, needs to be
// uploaded while it is built.
func TestStreamSendsAChunkWhileItIsWritten(t *testing.T) {
	proxy := startProxy(t)
	patches := countRequests(proxy, http.MethodPatch)
	repoURL := proxy.URL() + "/v2/stream/growing"
	data, desc := randomBlob(3 << 20)

	s, tail := startStream(t, repoURL, 64<<20, 0)
	if _, err := tail.Write(data[:1<<20]); err != nil {
		t.Fatal(err)
	}
	if !waitFor(func() bool { return proxy.Stats().UploadBytes >= 1<<20 }) {
		t.Fatalf("%d bytes reached the registry while a blob smaller than a chunk was written, want the 1 MiB written so far", proxy.Stats().UploadBytes)
	}
	if _, err := tail.Write(data[1<<20:]); err != nil {
		t.Fatal(err)
	}
	tail.Close(nil)
	if err := s.Finish(desc); err != nil {
		t.Fatal(err)
	}
	if n := patches.Load(); n != 1 {
		t.Errorf("%d PATCH requests for a blob smaller than a chunk, want 1", n)
	}
	if st := blobStatus(t, repoURL, desc.Digest); st != http.StatusOK {
		t.Errorf("HEAD of the blob: %d, want 200", st)
	}
}

// A growing chunk that fails half way is resumed from what the registry
// holds; the blob arrives whole and only what was lost is sent again.
func TestStreamResumesAGrowingChunk(t *testing.T) {
	proxy := startProxy(t)
	var patches atomic.Int32
	proxy.SetFaults(func(r *http.Request) *registrytest.Fault {
		if r.Method == http.MethodPatch && patches.Add(1) == 1 {
			return &registrytest.Fault{FailUploadAfter: 512 << 10}
		}
		return nil
	})
	repoURL := proxy.URL() + "/v2/stream/growing-resumed"
	data, desc := randomBlob(2 << 20)

	s, tail := startStream(t, repoURL, 64<<20, 2)
	if _, err := tail.Write(data[:1<<20]); err != nil {
		t.Fatal(err)
	}
	if !waitFor(func() bool { return patches.Load() >= 2 }) {
		t.Fatal("the failed chunk was not resumed while the blob was written")
	}
	if _, err := tail.Write(data[1<<20:]); err != nil {
		t.Fatal(err)
	}
	tail.Close(nil)
	if err := s.Finish(desc); err != nil {
		t.Fatal(err)
	}
	if up := proxy.Stats().UploadBytes; up > int64(len(data))+(1<<20) {
		t.Errorf("uploaded %d bytes for a blob of %d: more than the failed chunk was sent again", up, len(data))
	}
	if st := blobStatus(t, repoURL, desc.Digest); st != http.StatusOK {
		t.Errorf("HEAD of the blob: %d, want 200", st)
	}
}

// writeSizes records the size of each write.
type writeSizes struct{ sizes []int }

func (w *writeSizes) Write(p []byte) (int, error) {
	w.sizes = append(w.sizes, len(p))
	return len(p), nil
}

// A growing chunk written by a builder in small pieces still goes to the
// request in pieces of growingPiece bytes (the last one excepted), not one
// per write of the builder: each would wake the registry.
func TestGrowingChunkWritesLargePieces(t *testing.T) {
	tail := newTail(t)
	data, _ := randomBlob(1<<20 + 100)
	var read chunkRead
	read.ended.Store(-1)
	c := &growingChunk{ctx: context.Background(), cancel: func() {}, r: tail, ready: tail.Ready, end: 64 << 20, read: &read}
	go func() {
		for off := 0; off < len(data); off += 4 << 10 {
			tail.Write(data[off:min(off+4<<10, len(data))])
		}
		tail.Close(nil)
	}()
	var w writeSizes
	n, err := io.Copy(&w, c) // as the transport copies a body
	if err != nil || n != int64(len(data)) || read.ended.Load() != n {
		t.Fatalf("wrote %d bytes (chunk ended at %d): %v; want %d", n, read.ended.Load(), err, len(data))
	}
	for i, size := range w.sizes[:len(w.sizes)-1] {
		if size != growingPiece {
			t.Fatalf("write %d of %d: %d bytes, want %d", i, len(w.sizes), size, growingPiece)
		}
	}
}

// Closing a growing chunk's body, as the transport does when it stops
// sending it (a registry that answered before its end), ends its wait for
// bytes not yet written, rather than leaving it until the build ends.
func TestGrowingChunkCloseEndsItsWait(t *testing.T) {
	tail := newTail(t)
	defer tail.Close(nil)
	var read chunkRead
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &growingChunk{ctx: ctx, cancel: cancel, r: tail, ready: tail.Ready, end: 64 << 20, read: &read}
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1024))
		done <- err
	}()
	c.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Error("a read of a closed body waiting for bytes returned no error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("closing the body did not end its wait")
	}
}
