package toc

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/containerd/stargz-snapshotter/estargz"
	"github.com/containerd/stargz-snapshotter/estargz/zstdchunked"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	digest "github.com/opencontainers/go-digest"

	"github.com/blobber-dev/blobber/internal/compression"
)

// tocDecompressor is the part of the estargz decompressors this reader
// uses; both gzip and zstd:chunked have it.
type tocDecompressor interface {
	FooterSize() int64
	ParseFooter(p []byte) (blobPayloadSize, tocOffset, tocSize int64, err error)
	DecompressTOC(r io.Reader) (io.ReadCloser, error)
}

func decompressorFor(c compression.Compression) tocDecompressor {
	if c == compression.Zstd {
		return new(zstdchunked.Decompressor)
	}
	return new(fastGzip)
}

// errTOCTooLarge is a TOC that says, before it is decoded, that it is
// larger than the limit.
func errTOCTooLarge(size, limit int64) error {
	return fmt.Errorf("%w: the TOC is %d bytes, more than the %d allowed", ErrLimit, size, limit)
}

// fastGzip is estargz's GzipDecompressor with the TOC inflated by
// klauspost/compress, faster than the standard library's gzip that
// estargz uses: it matters for the TOC of a tree of many files,
// which every ls, cat and pull inflates.
type fastGzip struct {
	estargz.GzipDecompressor
	maxBytes int64 // refuse a TOC larger than this (none when 0)
}

// DecompressTOC is estargz's decompressTOCEStargz with another gzip reader:
// the TOC member holds one tar entry, stargz.index.json, whose header says
// how large the JSON is.
func (g *fastGzip) DecompressTOC(r io.Reader) (io.ReadCloser, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("malformed TOC gzip header: %v", err)
	}
	zr.Multistream(false)
	tr := tar.NewReader(zr)
	h, err := tr.Next()
	if err != nil {
		return nil, fmt.Errorf("failed to find tar header in TOC gzip stream: %v", err)
	}
	if h.Name != estargz.TOCTarName {
		return nil, fmt.Errorf("TOC tar entry had name %q; expected %q", h.Name, estargz.TOCTarName)
	}
	if g.maxBytes > 0 && h.Size > g.maxBytes {
		return nil, errTOCTooLarge(h.Size, g.maxBytes)
	}
	return io.NopCloser(tr), nil
}

// TailSize is how much of the blob's end one speculative request reads: the
// footer and, for most trees, the whole TOC with it.
const TailSize = 64 << 10

// layout is where the footer says things are.
type layout struct {
	payloadEnd int64 // where file data ends
	tocOffset  int64
	tocSize    int64
	tocJSON    int64 // the size the footer gives the TOC JSON; 0 when it gives none
}

// parseFooter reads the footer at the end of tail (the last bytes of a blob
// of blobSize) and checks that what it points to lies inside the blob.
// The estargz parsers index and convert without checks, so they run
// behind recover.
func parseFooter(c compression.Compression, tail []byte, blobSize int64) (l layout, err error) {
	dec := decompressorFor(c)
	fs := dec.FooterSize()
	if blobSize < fs || int64(len(tail)) < fs {
		return l, fmt.Errorf("%w: blob of %d bytes is too small for a footer", ErrNotEStargz, blobSize)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: malformed footer", ErrNotEStargz)
		}
	}()
	payload, off, size, err := dec.ParseFooter(tail[len(tail)-int(fs):])
	if err != nil {
		return l, fmt.Errorf("%w: %v", ErrNotEStargz, err)
	}
	end := blobSize - fs
	if size <= 0 {
		size = end - off
	}
	if payload < 0 || payload > off || off < 0 || off >= end || size <= 0 || size > end-off {
		return l, fmt.Errorf("%w: footer points outside the blob (TOC at %d+%d, blob %d)", ErrNotEStargz, off, size, blobSize)
	}
	l = layout{payloadEnd: payload, tocOffset: off, tocSize: size}
	if c == compression.Zstd {
		// zstd:chunked's footer also gives the uncompressed size, which
		// estargz's parser skips.
		f := tail[len(tail)-int(fs):]
		l.tocJSON = int64(min(binary.LittleEndian.Uint64(f[16:24]), 1<<62))
	}
	return l, nil
}

// readTOC inflates the TOC JSON once, hashing it while the scanner decodes
// it and calls each for every entry; the caller must use nothing each built
// unless readTOC returns no error. The entry, its Name, Digest and
// ChunkDigest are the scanner's, valid until each returns (see
// entryField.borrow): each copies what it keeps. A TOC whose digest is not
// want fails as a mismatch, whatever else is wrong with it.
func readTOC(c compression.Compression, compressed []byte, want digest.Digest, limits Limits, each func(*estargz.TOCEntry) error) (version int, err error) {
	return readTOCFrom(c, bytes.NewReader(compressed), want, limits, each)
}

// readTOCFrom is readTOC of a compressed TOC read as it is decoded.
func readTOCFrom(c compression.Compression, compressed io.Reader, want digest.Digest, limits Limits, each func(*estargz.TOCEntry) error) (version int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: malformed TOC", ErrNotEStargz)
		}
	}()
	limits = limits.orDefault()
	maxBytes := limits.MaxTOCBytes
	rc, err := decompressTOC(c, compressed, limits)
	if errors.Is(err, ErrLimit) {
		return 0, err
	}
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrNotEStargz, err)
	}
	defer rc.Close()
	h := want.Algorithm().Hash()
	limited := &io.LimitedReader{R: io.TeeReader(rc, h), N: maxBytes + 1}
	version, err = decodeTOC(limited, each)
	if _, cerr := io.Copy(io.Discard, limited); cerr != nil && err == nil {
		err = cerr
	}
	if limited.N <= 0 {
		return 0, fmt.Errorf("%w: TOC is larger than %d bytes", ErrLimit, maxBytes)
	}
	if got := digest.NewDigest(want.Algorithm(), h); got != want {
		return 0, fmt.Errorf("TOC digest is %s, the manifest says %s: %w", got, want, ErrDigestMismatch)
	}
	if isEntryRefused(err) {
		return 0, errors.Unwrap(err)
	}
	if err != nil {
		return 0, fmt.Errorf("%w: TOC JSON: %w", ErrNotEStargz, err)
	}
	return version, nil
}

// decompressTOC returns the TOC JSON of the compressed TOC member. The
// zstd decoder is estargz's but for the window: a frame declares how much
// history its decoder must keep, and the decoder allocates it up front, so
// a window larger than the JSON the limits allow (or than the encoders'
// usual one, which a small TOC may declare too) is refused unallocated.
func decompressTOC(c compression.Compression, r io.Reader, limits Limits) (io.ReadCloser, error) {
	limits = limits.orDefault()
	if c != compression.Zstd {
		return (&fastGzip{maxBytes: limits.MaxTOCBytes}).DecompressTOC(r)
	}
	d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(zstdMaxWindow(limits.MaxTOCBytes)))
	if err != nil {
		return nil, err
	}
	return d.IOReadCloser(), nil
}

// zstdUsualWindow is the window zstd encoders declare for a stream of
// unknown size at their default levels (klauspost's default, the reference
// encoder's up to level 19): a frame may declare it for less data.
const zstdUsualWindow = 8 << 20

// zstdMaxWindow is the largest window accepted for a frame that needs to
// give at most n bytes: no match reaches further back than the frame's
// start, so a legitimate frame needs no more than n, or declares the
// usual window.
func zstdMaxWindow(n int64) uint64 {
	return uint64(max(n, zstdUsualWindow))
}

// zstdChunkWindow is the largest window accepted for the frame of a chunk
// that ends need bytes into it. An encoder that knows a frame's size (its
// chunk and the tar headers after it) rounds the window up to a power of
// two of that size: twice what the chunk needs leaves room for it.
func zstdChunkWindow(need int64) uint64 {
	return zstdMaxWindow(2 * need)
}

// decodeTOC is the scanner's document, with a panic (the callback's, say)
// turned into an error, so that the digest is still checked first.
func decodeTOC(r io.Reader, each func(*estargz.TOCEntry) error) (version int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed TOC: %v", r)
		}
	}()
	return newTOCScanner(r).document(each)
}
