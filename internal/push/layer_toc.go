package push

import (
	"context"
	"fmt"
	"io"

	"github.com/blobber-dev/blobber/internal/toc"
)

// readLayerTOC reads the TOC of the layer art from blob, which the
// registry serves, and verifies it against art's TOC digest, as every
// reader does: toc.Read holds what the footer claims to the limits before
// it allocates or fetches what the claims size. With keepTail it also
// returns the layer's tail (TOC and footer) for a split push's config.
// toc.Tail sizes the tail by the footer alone, so it reads the footer
// toc.Read checked (the blob's end is read once and kept: a registry may
// answer a second read otherwise), and only once the tail is known to be
// no longer than a TOC the limits allow; the tail it reads is verified
// again.
func readLayerTOC(ctx context.Context, blob io.ReaderAt, art Layer, limits toc.Limits, keepTail bool) (*toc.Index, []byte, error) {
	size := art.Desc.Size
	start := max(0, size-toc.TailSize)
	end := make([]byte, size-start)
	if _, err := blob.ReadAt(end, start); err != nil && err != io.EOF {
		return nil, nil, fmt.Errorf("reading footer: %w", err)
	}
	pinned := pinnedEnd{blob, start, end}
	index, err := toc.Read(ctx, pinned, size, art.Compression, art.TOCDigest, limits)
	if err != nil || !keepTail {
		return index, nil, err
	}
	// The tail runs from the TOC, which starts at or after the payload's
	// end, to the blob's end.
	maxTOC := limits.MaxTOCBytes
	if maxTOC <= 0 {
		maxTOC = toc.DefaultMaxTOCBytes
	}
	if n := size - index.PayloadEnd; n > maxTOC+toc.TailSize {
		return nil, nil, fmt.Errorf("%w: the footer leaves %d bytes after the payload, more than a TOC of %d", toc.ErrLimit, n, maxTOC)
	}
	tail, err := toc.Tail(pinned, size, art.Compression)
	if err != nil {
		return nil, nil, err
	}
	if _, err := toc.FromTail(tail, size, art.Compression, art.TOCDigest, limits); err != nil {
		return nil, nil, err
	}
	return index, tail, nil
}

// pinnedEnd is a blob whose last bytes, from start, are end: a read
// within them is answered from end, any other from the blob.
type pinnedEnd struct {
	blob  io.ReaderAt
	start int64
	end   []byte
}

func (p pinnedEnd) ReadAt(b []byte, off int64) (int, error) {
	if off >= p.start && off+int64(len(b)) <= p.start+int64(len(p.end)) {
		return copy(b, p.end[off-p.start:]), nil
	}
	return p.blob.ReadAt(b, off)
}
