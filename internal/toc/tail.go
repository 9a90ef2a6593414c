package toc

import (
	"fmt"
	"io"

	digest "github.com/opencontainers/go-digest"

	"github.com/blobber-dev/blobber/internal/compression"
)

// A layer's tail is its bytes from the start of its compressed TOC to its
// end: the TOC and the footer. A split push keeps every layer's tail in
// the image config, so that a listing reads one blob instead of one tail
// per layer; FromTail reads a tail held that way exactly as Read reads one
// fetched from the layer, verified against the same TOC digest.

// Tail returns the tail of the eStargz blob r of blobSize bytes.
func Tail(r io.ReaderAt, blobSize int64, c compression.Compression) ([]byte, error) {
	tailStart := max(0, blobSize-TailSize)
	end := make([]byte, blobSize-tailStart)
	if _, err := r.ReadAt(end, tailStart); err != nil && err != io.EOF {
		return nil, fmt.Errorf("reading footer: %w", err)
	}
	l, err := parseFooter(c, end, blobSize)
	if err != nil {
		return nil, err
	}
	tail := make([]byte, blobSize-l.tocOffset)
	if _, err := r.ReadAt(tail, l.tocOffset); err != nil && err != io.EOF {
		return nil, fmt.Errorf("reading TOC: %w", err)
	}
	return tail, nil
}

// FromTail verifies and indexes the tail of a blob of blobSize bytes, as
// Read does with the blob's own end: the footer must point at the tail's
// first byte, and the TOC JSON must have the digest tocDigest.
func FromTail(tail []byte, blobSize int64, c compression.Compression, tocDigest digest.Digest, limits Limits) (*Index, error) {
	if err := tocDigest.Validate(); err != nil {
		return nil, fmt.Errorf("%w: TOC digest %q: %v", ErrNotEStargz, tocDigest, err)
	}
	if int64(len(tail)) > blobSize {
		return nil, fmt.Errorf("%w: a tail of %d bytes for a blob of %d", ErrNotEStargz, len(tail), blobSize)
	}
	limits = limits.orDefault()
	l, err := parseFooter(c, tail, blobSize)
	if err != nil {
		return nil, err
	}
	if l.tocOffset != blobSize-int64(len(tail)) {
		return nil, fmt.Errorf("%w: the footer puts the TOC at %d, the tail starts at %d", ErrNotEStargz, l.tocOffset, blobSize-int64(len(tail)))
	}
	if l.tocSize > limits.MaxTOCBytes {
		return nil, fmt.Errorf("%w: the compressed TOC is %d bytes, more than the %d allowed", ErrLimit, l.tocSize, limits.MaxTOCBytes)
	}
	if l.tocJSON > limits.MaxTOCBytes {
		return nil, errTOCTooLarge(l.tocJSON, limits.MaxTOCBytes)
	}
	b := newBuilder(c, blobSize, l.payloadEnd, limits)
	tocLimits := limits
	if l.tocJSON > 0 {
		tocLimits.MaxTOCBytes = l.tocJSON
	}
	version, err := readTOC(c, tail[:l.tocSize], tocDigest, tocLimits, b.add)
	if err != nil {
		return nil, err
	}
	return b.finish(version)
}
