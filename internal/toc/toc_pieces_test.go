package toc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"testing/fstest"

	digest "github.com/opencontainers/go-digest"

	"github.com/blobber-dev/blobber/internal/compression"
	"github.com/blobber-dev/blobber/internal/layer"
)

// recordingReader records the size of every read of its blob, and fails
// the read at failAt when it is set.
type recordingReader struct {
	blob   []byte
	failAt int
	mu     sync.Mutex
	sizes  []int
}

var errRead = errors.New("the registry went away")

func (r *recordingReader) ReadAt(p []byte, off int64) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sizes = append(r.sizes, len(p))
	if r.failAt > 0 && len(r.sizes) == r.failAt {
		return 0, errRead
	}
	return bytes.NewReader(r.blob).ReadAt(p, off)
}

// manyFilesBlob builds a layer whose compressed TOC is far larger than
// the tail Read fetches first.
func manyFilesBlob(t *testing.T, c compression.Compression) ([]byte, digest.Digest) {
	t.Helper()
	tree := fstest.MapFS{}
	for i := range 3000 {
		tree[fmt.Sprintf("d%02d/%x.txt", i%50, digest.FromString(fmt.Sprint(i)).Encoded()[:24])] = &fstest.MapFile{Data: fmt.Appendf(nil, "file %d\n", i), Mode: 0o644}
	}
	var buf bytes.Buffer
	res, err := layer.Build(context.Background(), tree, &buf, layer.Options{Compression: c})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), res.TOCDigest
}

// Read holds a compressed TOC a piece at a time: no read but the tail's is
// larger than a piece, and the index is the one a whole read gives.
func TestReadTOCInPieces(t *testing.T) {
	for _, c := range []compression.Compression{compression.Gzip, compression.Zstd} {
		t.Run(string(c), func(t *testing.T) {
			blob, tocDigest := manyFilesBlob(t, c)
			whole, err := Read(context.Background(), bytes.NewReader(blob), int64(len(blob)), c, tocDigest, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			defer func(old int64) { tocPiece = old }(tocPiece)
			tocPiece = 16 << 10
			r := &recordingReader{blob: blob}
			ix, err := Read(context.Background(), r, int64(len(blob)), c, tocDigest, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.sizes) < 4 {
				t.Fatalf("%d reads (%v): the TOC is not larger than the tail and a piece", len(r.sizes), r.sizes)
			}
			for _, n := range r.sizes[1:] {
				if int64(n) > tocPiece {
					t.Fatalf("a read of %d bytes, more than a piece (reads %v)", n, r.sizes)
				}
			}
			if ix.Files != whole.Files || ix.TotalBytes != whole.TotalBytes {
				t.Fatalf("%d files of %d bytes, a whole read gives %d of %d", ix.Files, ix.TotalBytes, whole.Files, whole.TotalBytes)
			}
			checkIndex(t, ix)
		})
	}
}

// A read that fails while the TOC streams in fails Read with the reader's
// error, not as a malformed TOC.
func TestReadTOCPieceFails(t *testing.T) {
	blob, tocDigest := manyFilesBlob(t, compression.Gzip)
	defer func(old int64) { tocPiece = old }(tocPiece)
	tocPiece = 16 << 10
	_, err := Read(context.Background(), &recordingReader{blob: blob, failAt: 3}, int64(len(blob)), compression.Gzip, tocDigest, Limits{})
	if !errors.Is(err, errRead) || errors.Is(err, ErrNotEStargz) {
		t.Fatalf("got %v, want the read's error", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Read(ctx, bytes.NewReader(blob), int64(len(blob)), compression.Gzip, tocDigest, Limits{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: got %v", err)
	}
}

var _ io.ReaderAt = (*recordingReader)(nil)
