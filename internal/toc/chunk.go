package toc

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"sync"

	"github.com/blobber-dev/blobber/internal/compression"
	"github.com/blobber-dev/blobber/internal/inflate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	digest "github.com/opencontainers/go-digest"
)

// Fetch reads a chunk's compressed bytes from r and decodes it into dst
// (reused when large enough), checking it against its digest.
func (ix *Index) Fetch(r io.ReaderAt, c Chunk, dst []byte) ([]byte, error) {
	compressed := make([]byte, ix.Need(c))
	if _, err := r.ReadAt(compressed, c.Offset); err != nil && err != io.EOF {
		return nil, err
	}
	return ix.Decode(compressed, c, dst)
}

// Need is how many compressed bytes from c.Offset decoding c can take: the
// member up to c.End(), but never more than the worst case of compressing
// InnerOffset+Size bytes, so that a member padded with junk, or a hole
// before the TOC, is not fetched.
func (ix *Index) Need(c Chunk) int64 {
	raw := c.InnerOffset + c.Size
	// Stored deflate blocks add 5 bytes per 64 KiB, zstd raw blocks 3 per
	// 128 KiB; headers (gzip's optional fields, zstd's frame header and
	// dictionary ID) stay well under the slack.
	bound := raw + raw/1024 + 64<<10
	return min(c.End()-c.Offset, bound)
}

// Decode decompresses a chunk from its member's compressed bytes (which
// start at c.Offset and may run past c.End()) and verifies it against its
// digest. Only the chunk's declared size is decompressed, so a member that
// inflates to more costs nothing.
func (ix *Index) Decode(compressed []byte, c Chunk, dst []byte) ([]byte, error) {
	dst, err := ix.inflate(compressed, c, dst)
	if err != nil {
		return nil, err
	}
	if got := sha256.Sum256(dst); got != c.SHA256 {
		return nil, fmt.Errorf("chunk at %d is %s, the TOC says %s: %w", c.Offset, digest.NewDigestFromBytes(digest.SHA256, got[:]), c.Digest(), ErrDigestMismatch)
	}
	return dst, nil
}

// inflate is Decode's decompression, before the digest check that every
// reader of a chunk needs (the layer's digest vouches for the bytes, not
// for what the TOC says they hold). Bytes that do not decompress fail with
// ErrDigestMismatch.
func (ix *Index) inflate(compressed []byte, c Chunk, dst []byte) ([]byte, error) {
	if ix.Compression != compression.Zstd && c.InnerOffset == 0 {
		return inflateMember(compressed, c, dst)
	}
	if int64(cap(dst)) < c.Size {
		dst = make([]byte, c.Size)
	}
	dst = dst[:c.Size]
	zr, release, err := newReader(ix.Compression, bytes.NewReader(compressed), zstdChunkWindow(c.InnerOffset+c.Size))
	if err != nil {
		return nil, fmt.Errorf("%w: chunk at %d: %v", ErrDigestMismatch, c.Offset, err)
	}
	defer release()
	if c.InnerOffset > 0 {
		if _, err := io.CopyN(io.Discard, zr, c.InnerOffset); err != nil {
			return nil, fmt.Errorf("chunk at %d: %w: %v", c.Offset, ErrDigestMismatch, err)
		}
	}
	if _, err := io.ReadFull(zr, dst); err != nil {
		return nil, fmt.Errorf("chunk at %d: %w: %v", c.Offset, ErrDigestMismatch, err)
	}
	return dst, nil
}

// memberSlack is room to decode a chunk's gzip member past the chunk, to
// reach its CRC-32: after a file's last chunk, the member goes on with the
// tar padding and the headers of the entries up to the next file's data.
const memberSlack = 16 << 10

// inflateMember decodes a chunk that starts its gzip member with the
// in-memory decoder of internal/inflate, 1.5 times as fast as
// compress/gzip here, which also checks the member's CRC-32 when it ends
// within memberSlack of the chunk.
func inflateMember(compressed []byte, c Chunk, dst []byte) ([]byte, error) {
	need := c.Size + memberSlack
	if int64(cap(dst)) < need {
		dst = make([]byte, need)
	}
	dst = dst[:need]
	if _, err := inflate.Gunzip(dst, int(c.Size), compressed); err != nil {
		return nil, fmt.Errorf("chunk at %d: %w: %v", c.Offset, ErrDigestMismatch, err)
	}
	return dst[:c.Size], nil
}

var (
	gzipReaders sync.Pool
	zstdReaders sync.Pool
)

// newReader decompresses r. A zstd frame that declares a window larger than
// maxWindow is refused before its window is allocated: a frame needs no
// more history than the bytes read from it (see zstdChunkWindow), and a
// hostile one could otherwise make every decoder in flight hold the
// largest window zstd allows.
func newReader(c compression.Compression, r io.Reader, maxWindow uint64) (io.Reader, func(), error) {
	if c == compression.Zstd {
		if d, ok := zstdReaders.Get().(*zstd.Decoder); ok {
			if err := d.ResetWithOptions(r, zstd.WithDecoderMaxWindow(maxWindow)); err != nil {
				return nil, nil, err
			}
			return d, func() { zstdReaders.Put(d) }, nil
		}
		d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxWindow(maxWindow))
		if err != nil {
			return nil, nil, err
		}
		return d, func() { zstdReaders.Put(d) }, nil
	}
	if z, ok := gzipReaders.Get().(*gzip.Reader); ok {
		if err := z.Reset(r); err != nil {
			return nil, nil, err
		}
		z.Multistream(false)
		return z, func() { gzipReaders.Put(z) }, nil
	}
	z, err := gzip.NewReader(r)
	if err != nil {
		return nil, nil, err
	}
	z.Multistream(false)
	return z, func() { gzipReaders.Put(z) }, nil
}
