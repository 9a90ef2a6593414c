package toc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/containerd/stargz-snapshotter/estargz"
	"github.com/containerd/stargz-snapshotter/estargz/zstdchunked"
	digest "github.com/opencontainers/go-digest"
)

// Compression is how the blob's members are compressed.
type Compression int

const (
	Gzip Compression = iota
	Zstd
)

func (c Compression) String() string {
	if c == Zstd {
		return "zstd"
	}
	return "gzip"
}

// tocDecompressor is the part of the estargz decompressors this reader
// uses; both gzip and zstd:chunked have it.
type tocDecompressor interface {
	FooterSize() int64
	ParseFooter(p []byte) (blobPayloadSize, tocOffset, tocSize int64, err error)
	DecompressTOC(r io.Reader) (io.ReadCloser, error)
}

func (c Compression) decompressor() tocDecompressor {
	if c == Zstd {
		return new(zstdchunked.Decompressor)
	}
	return new(estargz.GzipDecompressor)
}

// TailSize is how much of the blob's end one speculative request reads: the
// footer and, for most trees, the whole TOC with it.
const TailSize = 64 << 10

// layout is where the footer says things are.
type layout struct {
	payloadEnd int64 // where file data ends
	tocOffset  int64
	tocSize    int64
}

// parseFooter reads the footer at the end of tail (the last bytes of a blob
// of blobSize) and checks that what it points to lies inside the blob.
// The estargz parsers index and convert without checks, so they run
// behind recover.
func parseFooter(c Compression, tail []byte, blobSize int64) (l layout, err error) {
	dec := c.decompressor()
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
	return layout{payloadEnd: payload, tocOffset: off, tocSize: size}, nil
}

// decodeTOC decompresses the TOC, checks its digest before parsing it, and
// parses it.
func decodeTOC(c Compression, compressed []byte, want digest.Digest, maxBytes int64) (toc *estargz.JTOC, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: malformed TOC", ErrNotEStargz)
		}
	}()
	rc, err := c.decompressor().DecompressTOC(bytes.NewReader(compressed))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotEStargz, err)
	}
	defer rc.Close()
	raw, err := io.ReadAll(io.LimitReader(rc, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading TOC: %v", ErrNotEStargz, err)
	}
	if int64(len(raw)) > maxBytes {
		return nil, fmt.Errorf("%w: TOC is larger than %d bytes", ErrLimit, maxBytes)
	}
	if got := digest.FromBytes(raw); got != want {
		return nil, fmt.Errorf("TOC digest is %s, the manifest says %s: %w", got, want, ErrDigestMismatch)
	}
	toc = new(estargz.JTOC)
	if err := json.Unmarshal(raw, toc); err != nil {
		return nil, fmt.Errorf("%w: TOC JSON: %v", ErrNotEStargz, err)
	}
	return toc, nil
}
