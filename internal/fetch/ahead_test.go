package fetch

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// readInOrder reads [off, len(s.data)) through b in pieces of piece bytes,
// one after another, and checks every byte.
func readInOrder(t *testing.T, b *Blob, s *blobServer, off, piece int64) {
	t.Helper()
	p := make([]byte, piece)
	for at := off; at < int64(len(s.data)); at += piece {
		n, err := b.ReadAt(p, at)
		if n != int(min(piece, int64(len(s.data))-at)) || !bytes.Equal(p[:n], s.data[at:at+int64(n)]) {
			t.Fatalf("ReadAt(%d) = %d, %v, or wrong bytes", at, n, err)
		}
	}
}

func TestReadAheadAsksOnceForAStretch(t *testing.T) {
	s, srv := newBlobServer(t, 1<<20)
	b := NewBlob(context.Background(), http.DefaultClient, srv.URL, int64(len(s.data)))
	readInOrder(t, b, s, 100, 64<<10)
	if len(s.ranges) != 16 {
		t.Fatalf("without ReadAhead, %d requests for 16 reads", len(s.ranges))
	}
	s.ranges = nil
	b.ReadAhead(100, int64(len(s.data))-100)
	readInOrder(t, b, s, 100, 64<<10)
	if want := "bytes=100-1048575"; strings.Join(s.ranges, ",") != want {
		t.Fatalf("ranges asked: %q, want %q", s.ranges, want)
	}
}

func TestReadAheadResumesWhereTheStretchDropped(t *testing.T) {
	s, srv := newBlobServer(t, 1<<20)
	s.dropAfter, s.dropCount = 300_000, 1
	b := NewBlob(context.Background(), http.DefaultClient, srv.URL, int64(len(s.data)))
	b.ReadAhead(100, int64(len(s.data))-100)
	readInOrder(t, b, s, 100, 64<<10)
	want := "bytes=100-1048575,bytes=300100-1048575"
	if strings.Join(s.ranges, ",") != want {
		t.Fatalf("ranges asked: %q, want %q", s.ranges, want)
	}
}

// Reads out of the announced order still get their bytes, and the
// responses they leave open stay bounded.
func TestReadAheadOutOfOrder(t *testing.T) {
	s, srv := newBlobServer(t, 1<<20)
	b := NewBlob(context.Background(), http.DefaultClient, srv.URL, int64(len(s.data)))
	b.ReadAhead(0, int64(len(s.data)))
	p := make([]byte, 32<<10)
	for at := int64(len(s.data)) - int64(len(p)); at >= 0; at -= int64(len(p)) {
		if n, err := b.ReadAt(p, at); err != nil || n != len(p) || !bytes.Equal(p, s.data[at:at+int64(n)]) {
			t.Fatalf("ReadAt(%d) = %d, %v, or wrong bytes", at, n, err)
		}
	}
	b.ahead.mu.Lock()
	parked := len(b.ahead.parked)
	b.ahead.mu.Unlock()
	if parked > maxParked {
		t.Fatalf("%d responses left open, want at most %d", parked, maxParked)
	}
	b.Close()
}

// Close ends the response a stretch left open, so the registry's
// connection is not held until the process exits.
func TestCloseEndsTheStretchLeftOpen(t *testing.T) {
	s, _ := newBlobServer(t, 8<<20)
	var closed atomic.Int32
	srv := httptest.NewUnstartedServer(s)
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateClosed {
			closed.Add(1)
		}
	}
	srv.Start()
	defer func() {
		// A connection still open would make Close wait for it.
		srv.CloseClientConnections()
		srv.Close()
	}()
	b := NewBlob(context.Background(), http.DefaultClient, srv.URL, int64(len(s.data)))
	b.ReadAhead(0, int64(len(s.data)))
	if _, err := b.ReadAt(make([]byte, 1<<10), 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if closed.Load() != 0 {
		t.Fatal("the connection closed before the blob did")
	}
	b.Close()
	for deadline := time.Now().Add(5 * time.Second); closed.Load() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the response left open outlived the blob's Close")
		}
	}
}
