package upload

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/blobber-dev/blobber/internal/registrytest"

	"github.com/blobber-dev/blobber/internal/transport"
)

func randomBlob(n int) ([]byte, ocispec.Descriptor) {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b, ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.FromBytes(b), Size: int64(n)}
}

// blobStatus is the registry's answer to a HEAD of the blob.
func blobStatus(t *testing.T, repoURL string, d digest.Digest) int {
	t.Helper()
	resp, err := http.Head(repoURL + "/blobs/" + d.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// startProxy starts a registry behind a counting proxy.
func startProxy(t *testing.T) *registrytest.Proxy {
	t.Helper()
	return registrytest.Start(t).CountingProxy(t)
}

// countRequests counts the requests of method that reach proxy from now
// on, faulting none.
func countRequests(proxy *registrytest.Proxy, method string) *atomic.Int32 {
	var n atomic.Int32
	proxy.SetFaults(func(r *http.Request) *registrytest.Fault {
		if r.Method == method {
			n.Add(1)
		}
		return nil
	})
	return &n
}

// startStream starts uploading, chunk bytes per PATCH, to repoURL what is
// written to the Tail it returns.
func startStream(t *testing.T, repoURL string, chunk int64, retries int) (*Stream, *Tail) {
	t.Helper()
	tail := newTail(t)
	s, err := StartStream(context.Background(), http.DefaultClient, repoURL, tail, chunk, retryPolicy(retries))
	if err != nil {
		t.Fatal(err)
	}
	return s, tail
}

// streamWhole streams data to repoURL, chunk bytes per PATCH, as a writer
// that is done, and returns what Finish with desc says.
func streamWhole(t *testing.T, repoURL string, chunk int64, retries int, data []byte, desc ocispec.Descriptor) error {
	t.Helper()
	s, tail := startStream(t, repoURL, chunk, retries)
	if _, err := tail.Write(data); err != nil {
		t.Fatal(err)
	}
	tail.Close(nil)
	return s.Finish(desc)
}

// waitFor polls cond for up to ten seconds.
func waitFor(cond func() bool) bool {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return false
}

// A blob is uploaded while it is written: the registry receives its first
// bytes before the writer is done, and holds the blob, checked against its
// digest, once Finish names it.
func TestStreamUploadsWhileTheBlobIsWritten(t *testing.T) {
	proxy := startProxy(t)
	repoURL := proxy.URL() + "/v2/stream/blob"
	data, desc := randomBlob(3 << 20)

	s, tail := startStream(t, repoURL, 1<<20, 0)
	if _, err := tail.Write(data[:1<<20]); err != nil {
		t.Fatal(err)
	}
	if !waitFor(func() bool { return proxy.Stats().UploadBytes > 0 }) {
		t.Fatal("nothing reached the registry while the blob was being written")
	}
	if _, err := tail.Write(data[1<<20:]); err != nil {
		t.Fatal(err)
	}
	tail.Close(nil)
	if err := s.Finish(desc); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(repoURL + "/blobs/" + desc.Digest.String())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if !bytes.Equal(got, data) {
		t.Fatalf("registry holds %d bytes (status %d), want the %d written", len(got), resp.StatusCode, len(data))
	}
}

// A chunk that fails half way is resumed from what the registry holds,
// not sent again from the start of the blob.
func TestStreamResumesAFailedChunk(t *testing.T) {
	proxy := startProxy(t)
	var patches atomic.Int32
	proxy.SetFaults(func(r *http.Request) *registrytest.Fault {
		if r.Method == http.MethodPatch && patches.Add(1) == 2 {
			return &registrytest.Fault{FailUploadAfter: 512 << 10}
		}
		return nil
	})
	repoURL := proxy.URL() + "/v2/stream/resumed"
	data, desc := randomBlob(4 << 20)
	if err := streamWhole(t, repoURL, 1<<20, 2, data, desc); err != nil {
		t.Fatal(err)
	}
	if n := patches.Load(); n < 5 {
		t.Errorf("%d PATCH requests for 4 chunks, one of them failed", n)
	}
	if up := proxy.Stats().UploadBytes; up > int64(len(data))+(1<<20) {
		t.Errorf("uploaded %d bytes for a blob of %d: more than the failed chunk was sent again", up, len(data))
	}
	if st := blobStatus(t, repoURL, desc.Digest); st != http.StatusOK {
		t.Errorf("HEAD of the blob: %d, want 200", st)
	}
}

// A first chunk that never reached the registry is sent again from byte 0:
// Distribution describes an empty session as "Range: 0-0".
func TestStreamResumesAnEmptySession(t *testing.T) {
	proxy := startProxy(t)
	var patches atomic.Int32
	proxy.SetFaults(func(r *http.Request) *registrytest.Fault {
		if r.Method == http.MethodPatch && patches.Add(1) == 1 {
			return &registrytest.Fault{Status: http.StatusBadGateway}
		}
		return nil
	})
	repoURL := proxy.URL() + "/v2/stream/empty"
	data, desc := randomBlob(1 << 20)
	if err := streamWhole(t, repoURL, 256<<10, 2, data, desc); err != nil {
		t.Fatal(err)
	}
	if st := blobStatus(t, repoURL, desc.Digest); st != http.StatusOK {
		t.Errorf("HEAD of the blob: %d, want 200", st)
	}
}

// Abort after chunks have landed cancels the session at its latest
// location (Distribution refuses a DELETE that names an older offset):
// the registry no longer knows the upload.
func TestStreamAbortDropsTheSession(t *testing.T) {
	proxy := startProxy(t)
	deleted := countRequests(proxy, http.MethodDelete)
	repoURL := proxy.URL() + "/v2/stream/aborted"
	data, _ := randomBlob(1 << 20)
	s, tail := startStream(t, repoURL, 256<<10, 0)
	tail.Write(data)
	if !waitFor(func() bool { return proxy.Stats().UploadBytes >= 512<<10 }) {
		t.Fatal("no chunk reached the registry")
	}
	s.Abort()
	if deleted.Load() == 0 {
		t.Fatal("the session was not DELETEd")
	}
	resp, err := http.Get(s.loc)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("the aborted session answers %d, want 404", resp.StatusCode)
	}
}

// A registry that refuses a chunk (400: it takes no chunked uploads, say)
// is not sent it again: the upload fails at once, for the caller to send
// the blob some other way.
func TestStreamStopsAtARefusal(t *testing.T) {
	proxy := startProxy(t)
	var patches atomic.Int32
	proxy.SetFaults(func(r *http.Request) *registrytest.Fault {
		if r.Method == http.MethodPatch {
			patches.Add(1)
			return &registrytest.Fault{Status: http.StatusBadRequest}
		}
		return nil
	})
	data, desc := randomBlob(1 << 20)
	if err := streamWhole(t, proxy.URL()+"/v2/stream/refused", 256<<10, 5, data, desc); err == nil {
		t.Fatal("Finish succeeded though every chunk was refused")
	}
	if n := patches.Load(); n != 1 {
		t.Errorf("%d PATCH requests, want the one refused", n)
	}
}

// Finish with a descriptor the bytes do not match fails, the session is
// dropped, and the registry does not hold the blob.
func TestStreamRefusesWhatDoesNotMatch(t *testing.T) {
	proxy := startProxy(t)
	var deletes atomic.Int32
	proxy.SetFaults(func(r *http.Request) *registrytest.Fault {
		if r.Method == http.MethodDelete && strings.Contains(r.URL.Path, "/blobs/uploads/") {
			deletes.Add(1)
		}
		return nil
	})
	repoURL := proxy.URL() + "/v2/stream/mismatch"
	data, desc := randomBlob(1 << 20)
	_, other := randomBlob(1 << 10)

	for name, wrong := range map[string]ocispec.Descriptor{
		"size":   {Digest: desc.Digest, Size: desc.Size + 1},
		"digest": {Digest: other.Digest, Size: desc.Size},
	} {
		t.Run(name, func(t *testing.T) {
			deletes.Store(0)
			if err := streamWhole(t, repoURL, 256<<10, 0, data, wrong); err == nil {
				t.Fatal("Finish accepted a descriptor the bytes do not match")
			}
			if deletes.Load() != 1 {
				t.Errorf("%d DELETEs of the session, want 1", deletes.Load())
			}
			if st := blobStatus(t, repoURL, wrong.Digest); st != http.StatusNotFound {
				t.Errorf("HEAD of the blob: %d, want 404", st)
			}
		})
	}
}

// An upload whose Location leaves the registry's host is refused before a
// byte goes there, chunked or streamed (as oras-go refuses it for its own
// uploads).
func TestUploadStaysOnTheRegistry(t *testing.T) {
	proxy := startProxy(t)
	var asked atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer elsewhere.Close()
	proxy.SetFaults(func(r *http.Request) *registrytest.Fault {
		if r.Method == http.MethodPost {
			return &registrytest.Fault{Status: http.StatusAccepted, Header: http.Header{"Location": {elsewhere.URL + "/upload/1"}}}
		}
		return nil
	})
	repoURL := proxy.URL() + "/v2/stream/elsewhere"
	data, desc := randomBlob(1 << 10)

	tail := newTail(t)
	tail.Write(data)
	tail.Close(nil)
	_, err := StartStream(context.Background(), http.DefaultClient, repoURL, tail, 512, retryPolicy(0))
	if err == nil || !strings.Contains(err.Error(), "different host") {
		t.Errorf("stream: %v", err)
	}
	err = Chunked(context.Background(), http.DefaultClient, repoURL, desc, bytes.NewReader(data), 512, retryPolicy(0))
	if err == nil || !strings.Contains(err.Error(), "different host") {
		t.Errorf("chunked: %v", err)
	}
	if n := asked.Load(); n != 0 {
		t.Errorf("the other host was sent %d requests", n)
	}
}

// retryPolicy retries a failed chunk n times (none for 0).
func retryPolicy(n int) *transport.Policy {
	if n == 0 {
		n = -1
	}
	return transport.NewPolicy(n)
}
