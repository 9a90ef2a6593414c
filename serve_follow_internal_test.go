package blobber

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// closeCounter is a layer that only counts its Close calls.
type closeCounter struct{ closes atomic.Int64 }

func (c *closeCounter) ReadAt([]byte, int64) (int, error) { return 0, nil }
func (c *closeCounter) Close() error                      { c.closes.Add(1); return nil }

// A swapped-out artifact is closed once, when the last request that began
// on it ends, not before; requests after the swap go to the new one.
func TestFollowClosesTheOldArtifactAfterItsRequests(t *testing.T) {
	old, next := &closeCounter{}, &closeCounter{}
	f := &Following{}
	f.swap(&Image{layers: []layerReader{old}})
	inflight := f.current.Load()
	if !inflight.acquire() {
		t.Fatal("the current generation refused a request")
	}
	f.swap(&Image{layers: []layerReader{next}})
	if n := old.closes.Load(); n != 0 {
		t.Fatalf("the old artifact was closed %d times while a request was on it", n)
	}
	if f.current.Load().img.layers[0] != next {
		t.Fatal("requests after the swap do not go to the new artifact")
	}
	inflight.release()
	if n := old.closes.Load(); n != 1 {
		t.Fatalf("the old artifact was closed %d times after its last request, want 1", n)
	}
	if inflight.acquire() {
		t.Fatal("a closed generation took a request")
	}
	// ServeHTTP after Close answers 503 and closes the current one.
	f.stop, f.done = func() {}, make(chan struct{})
	close(f.done)
	_ = f.Close()
	if n := next.closes.Load(); n != 1 {
		t.Fatalf("Close closed the current artifact %d times", n)
	}
	rec := httptest.NewRecorder()
	f.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("after Close: %d", rec.Code)
	}
}
