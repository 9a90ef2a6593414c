package fetch

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"

	digest "github.com/opencontainers/go-digest"
)

// A server that answers ranges with the whole blob sends it once: every
// later read comes from the copy that download left, checked against the
// blob's digest.
func TestAServerThatIgnoresRangeSendsTheBlobOnce(t *testing.T) {
	s, srv := newBlobServer(t, 1<<20)
	s.ignoreRange = true
	t.Setenv("TMPDIR", t.TempDir())
	b := NewBlob(context.Background(), http.DefaultClient, srv.URL, int64(len(s.data))).WithDigest(digest.FromBytes(s.data))
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			off := int64(i) * 60_000
			p := make([]byte, 5000)
			if n, err := b.ReadAt(p, off); err != nil || n != len(p) || !bytes.Equal(p, s.data[off:off+5000]) {
				t.Errorf("ReadAt(%d) = %d, %v", off, n, err)
			}
		})
	}
	wg.Wait()
	first := len(s.ranges)
	p := make([]byte, 100)
	for off := int64(0); off < int64(len(s.data)); off += 50_000 {
		if _, err := b.ReadAt(p, off); err != nil || !bytes.Equal(p, s.data[off:off+100]) {
			t.Fatalf("ReadAt(%d): %v", off, err)
		}
	}
	if len(s.ranges) != first {
		t.Fatalf("%d requests after the blob was downloaded whole", len(s.ranges)-first)
	}
	spooled, _ := filepath.Glob(filepath.Join(os.Getenv("TMPDIR"), "blobber-blob-*"))
	if len(spooled) != 1 {
		t.Fatalf("temporary files: %v", spooled)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if spooled, _ := filepath.Glob(filepath.Join(os.Getenv("TMPDIR"), "blobber-blob-*")); len(spooled) != 0 {
		t.Fatalf("Close left %v", spooled)
	}
}

func TestAWholeBlobThatDoesNotMatchItsDigestIsRefused(t *testing.T) {
	s, srv := newBlobServer(t, 1<<16)
	s.ignoreRange = true
	t.Setenv("TMPDIR", t.TempDir())
	b := NewBlob(context.Background(), http.DefaultClient, srv.URL, int64(len(s.data))).WithDigest(digest.FromString("other"))
	for range 3 {
		if _, err := b.ReadAt(make([]byte, 10), 100); !errors.Is(err, ErrDigestMismatch) {
			t.Fatalf("err = %v, want ErrDigestMismatch", err)
		}
	}
	if len(s.ranges) != 1 {
		t.Fatalf("%d requests: a blob that does not match was fetched again", len(s.ranges))
	}
	if spooled, _ := filepath.Glob(filepath.Join(os.Getenv("TMPDIR"), "blobber-blob-*")); len(spooled) != 0 {
		t.Fatalf("left %v", spooled)
	}
}
