package push

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"testing"
	"testing/fstest"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/blobber-dev/blobber/internal/compression"
	"github.com/blobber-dev/blobber/internal/layer"
	"github.com/blobber-dev/blobber/internal/testartifact"
	"github.com/blobber-dev/blobber/internal/toc"
)

// countingReaderAt counts the bytes asked of it: what a registry would be
// asked to send, and what the reader allocates to receive them.
type countingReaderAt struct {
	r     io.ReaderAt
	asked int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	c.asked += int64(len(p))
	return c.r.ReadAt(p, off)
}

// builtLayer builds a tree of three files, one of 256 KiB that does not
// compress, with compression comp.
func builtLayer(t testing.TB, comp compression.Compression) ([]byte, digest.Digest) {
	t.Helper()
	big := make([]byte, 256<<10)
	r := rand.New(rand.NewPCG(1, 1))
	for i := range big {
		big[i] = byte(r.Uint32())
	}
	tree := fstest.MapFS{
		"a.txt":     {Data: []byte("alpha\n"), Mode: 0o644},
		"big.bin":   {Data: big, Mode: 0o644},
		"sub/b.txt": {Data: []byte("bravo\n"), Mode: 0o644},
	}
	var blob bytes.Buffer
	res, err := layer.Build(context.Background(), tree, &blob, layer.Options{Compression: comp, ChunkSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	return blob.Bytes(), res.TOCDigest
}

// readLayerTOCBounded reads blob's TOC as a reuse check does, and checks
// what it asked of the blob and what it returned: never more than the TOC
// limit allows, whatever the footer says, and a tail only once verified.
func readLayerTOCBounded(t *testing.T, blob []byte, comp compression.Compression, tocDigest digest.Digest) error {
	const maxTOC = 16 << 10
	limits := toc.Limits{MaxTOCBytes: maxTOC}
	art := Layer{Desc: ocispec.Descriptor{Size: int64(len(blob))}, Compression: comp, TOCDigest: tocDigest}
	r := &countingReaderAt{r: bytes.NewReader(blob)}
	_, tail, err := readLayerTOC(context.Background(), r, art, limits, true)
	// The blob's end once, the compressed TOC, the tail.
	if bound := int64(toc.TailSize + maxTOC + maxTOC + toc.TailSize); r.asked > bound {
		t.Fatalf("asked for %d bytes of a %d-byte blob; at most %d", r.asked, len(blob), bound)
	}
	if err != nil {
		return err
	}
	if len(tail) > maxTOC+toc.TailSize {
		t.Fatalf("a tail of %d bytes", len(tail))
	}
	if _, ferr := toc.FromTail(tail, int64(len(blob)), comp, tocDigest, limits); ferr != nil {
		t.Fatalf("the tail returned does not verify: %v", ferr)
	}
	return nil
}

// A footer that puts the TOC at the blob's first byte is refused having
// asked for no more than the blob's end; the true footer gives the tail.
func TestReadLayerTOCBoundsTheFooter(t *testing.T) {
	blob, tocDigest := builtLayer(t, compression.Gzip)
	if len(blob) < 2*toc.TailSize {
		t.Fatalf("the layer is %d bytes, too small to tell", len(blob))
	}
	if err := readLayerTOCBounded(t, blob, compression.Gzip, tocDigest); err != nil {
		t.Fatal(err)
	}
	if err := readLayerTOCBounded(t, testartifact.WithFooter(blob, 0), compression.Gzip, tocDigest); err == nil {
		t.Fatal("a footer at the blob's first byte read")
	}
}

// FuzzReadLayerTOC: whatever the registry's bytes, a reuse check's read of
// a layer's TOC asks for and returns no more than the TOC limit allows,
// and returns only a tail that verifies.
func FuzzReadLayerTOC(f *testing.F) {
	gz, gzTOC := builtLayer(f, compression.Gzip)
	zs, zsTOC := builtLayer(f, compression.Zstd)
	f.Add(gz, false)
	f.Add(testartifact.WithFooter(gz, 0), false)
	f.Add(zs, true)
	f.Fuzz(func(t *testing.T, blob []byte, zstd bool) {
		if zstd {
			_ = readLayerTOCBounded(t, blob, compression.Zstd, zsTOC)
		} else {
			_ = readLayerTOCBounded(t, blob, compression.Gzip, gzTOC)
		}
	})
}
