package fetch

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"oras.land/oras-go/v2/registry/remote/errcode"

	"github.com/blobber-dev/blobber/internal/transport"
)

// blobServer serves data with real Range support (http.ServeContent) on
// 127.0.0.1, and can misbehave the way registries and CDNs do.
type blobServer struct {
	data []byte
	mu   sync.Mutex
	// dropAfter cuts the connection after this many body bytes, for the
	// next dropCount responses.
	dropAfter, dropCount int
	ignoreRange          bool
	contentRange         string // if set, sent instead of the right one
	ranges               []string
}

func (s *blobServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.ranges = append(s.ranges, r.Header.Get("Range"))
	drop := s.dropCount > 0
	if drop {
		s.dropCount--
	}
	s.mu.Unlock()
	switch {
	case s.ignoreRange:
		w.Write(s.data)
	case s.contentRange != "":
		w.Header().Set("Content-Range", s.contentRange)
		w.WriteHeader(http.StatusPartialContent)
		w.Write(s.data[:10])
	case drop:
		rec := httptest.NewRecorder()
		http.ServeContent(rec, r, "", time.Time{}, bytes.NewReader(s.data))
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes()[:s.dropAfter])
		w.(http.Flusher).Flush()
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	default:
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(s.data))
	}
}

func newBlobServer(t *testing.T, size int) (*blobServer, *httptest.Server) {
	data := make([]byte, size)
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	s := &blobServer{data: data}
	srv := httptest.NewServer(s) // listens on 127.0.0.1
	t.Cleanup(srv.Close)
	return s, srv
}

func TestReadAtRanges(t *testing.T) {
	s, srv := newBlobServer(t, 1<<20)
	b := NewBlob(context.Background(), http.DefaultClient, srv.URL, int64(len(s.data)))
	p := make([]byte, 1000)
	if n, err := b.ReadAt(p, 5000); err != nil || n != 1000 || !bytes.Equal(p, s.data[5000:6000]) {
		t.Fatalf("ReadAt = %d, %v", n, err)
	}
	if s.ranges[0] != "bytes=5000-5999" {
		t.Fatalf("asked for %q", s.ranges[0])
	}
	// A read past the end returns what there is and io.EOF.
	n, err := b.ReadAt(p, int64(len(s.data))-10)
	if n != 10 || err == nil || err.Error() != "EOF" {
		t.Fatalf("short read = %d, %v", n, err)
	}
}

func TestReadAtResumesWhereTheConnectionDropped(t *testing.T) {
	s, srv := newBlobServer(t, 1<<20)
	s.dropAfter, s.dropCount = 300_000, 2
	b := NewBlob(context.Background(), http.DefaultClient, srv.URL, int64(len(s.data)))
	p := make([]byte, 900_000)
	n, err := b.ReadAt(p, 100)
	if err != nil || n != len(p) || !bytes.Equal(p, s.data[100:900_100]) {
		t.Fatalf("ReadAt = %d, %v", n, err)
	}
	want := []string{"bytes=100-900099", "bytes=300100-900099", "bytes=600100-900099"}
	if strings.Join(s.ranges, ",") != strings.Join(want, ",") {
		t.Fatalf("ranges asked: %v, want %v", s.ranges, want)
	}
}

func TestReadAtGivesUpWithoutProgress(t *testing.T) {
	s, srv := newBlobServer(t, 1<<16)
	s.dropAfter, s.dropCount = 0, 100
	// The policy's retries bound the attempts in a row without progress.
	b := NewBlob(context.Background(), http.DefaultClient, srv.URL, int64(len(s.data))).WithPolicy(transport.NewPolicy(2))
	_, err := b.ReadAt(make([]byte, 100), 0)
	if err == nil || !strings.Contains(err.Error(), "without progress") {
		t.Fatalf("err = %v", err)
	}
	if len(s.ranges) != 3 {
		t.Fatalf("%d attempts, want 3 (the first and 2 retries)", len(s.ranges))
	}
}

func TestReadAtHandlesAServerThatIgnoresRange(t *testing.T) {
	s, srv := newBlobServer(t, 1<<16)
	s.ignoreRange = true
	b := NewBlob(context.Background(), http.DefaultClient, srv.URL, int64(len(s.data)))
	p := make([]byte, 500)
	if n, err := b.ReadAt(p, 1234); err != nil || n != 500 || !bytes.Equal(p, s.data[1234:1734]) {
		t.Fatalf("ReadAt = %d, %v", n, err)
	}
}

func TestReadAtRejectsAWrongContentRange(t *testing.T) {
	for _, cr := range []string{"bytes 0-9/65536", "bytes 100-109/1", "items 100-109/65536", "bytes 100-109"} {
		s, srv := newBlobServer(t, 1<<16)
		s.contentRange = cr
		b := NewBlob(context.Background(), http.DefaultClient, srv.URL, int64(len(s.data)))
		if _, err := b.ReadAt(make([]byte, 10), 100); err == nil || !strings.Contains(err.Error(), "Content-Range") {
			t.Errorf("Content-Range %q accepted: %v", cr, err)
		}
	}
}

func TestReadAtReportsStatus(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	b := NewBlob(context.Background(), http.DefaultClient, srv.URL, 100)
	_, err := b.ReadAt(make([]byte, 10), 0)
	var st *errcode.ErrorResponse
	if !errors.As(err, &st) || st.StatusCode != 404 || st.Method != http.MethodGet || st.URL.String() != srv.URL {
		t.Fatalf("err = %#v", err)
	}
}

func TestReadAtGoesBackToTheRegistryWhenARedirectExpired(t *testing.T) {
	s, storage := newBlobServer(t, 1<<16)
	var mu sync.Mutex
	expiredLeft := 2
	storageExpiring := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		expire := expiredLeft > 0
		expiredLeft--
		mu.Unlock()
		if expire {
			http.Error(w, "signature expired", http.StatusForbidden)
			return
		}
		s.ServeHTTP(w, r)
	}))
	defer storageExpiring.Close()
	var registryHits int
	registry := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		registryHits++
		mu.Unlock()
		http.Redirect(w, r, storageExpiring.URL+"/signed", http.StatusTemporaryRedirect)
	}))
	defer registry.Close()
	_ = storage
	b := NewBlob(context.Background(), http.DefaultClient, registry.URL+"/v2/x/blobs/sha256:abc", int64(len(s.data)))
	p := make([]byte, 100)
	if n, err := b.ReadAt(p, 10); err != nil || n != 100 || !bytes.Equal(p, s.data[10:110]) {
		t.Fatalf("ReadAt = %d, %v", n, err)
	}
	if registryHits != 3 {
		t.Fatalf("registry asked %d times, want 3 (two expired redirects, then a good one)", registryHits)
	}
	// A 403 from the registry itself is final.
	denied := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "denied", http.StatusForbidden)
	}))
	defer denied.Close()
	b = NewBlob(context.Background(), http.DefaultClient, denied.URL, 100)
	if _, err := b.ReadAt(p, 0); err == nil {
		t.Fatal("403 from the registry was retried into success")
	}
}
