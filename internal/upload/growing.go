package upload

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"

	"github.com/blobber-dev/blobber/internal/transport"
)

// patchGrowing sends, in one PATCH, the chunk of r that starts at off and
// ends chunkSize bytes further or where the source ends, while the source
// is still being written: a blob smaller than one chunk (most layers) then
// reaches the registry while it is built, not all after. Its length is not
// known when the request starts, so the body goes without a Content-Length
// (chunked transfer encoding) and therefore without a Content-Range, as a
// docker push streams its layers; the registry appends it to what it
// holds. That the registry held off bytes before it, and holds off+n after
// it, is checked against the Range it answers, as for a chunk of known
// length. It returns the session's next location and n; after a failure,
// n is how many bytes were read for the request (the registry cannot
// hold more of them).
func (u *uploader) patchGrowing(loc string, r io.ReaderAt, ready readyFunc, off, chunkSize int64) (string, int64, error) {
	// The body may be asked for again (GetBody, after an expired token):
	// every copy reads the same bytes, and the one read to its end says
	// how many.
	var read chunkRead
	read.ended.Store(-1)
	read.furthest.Store(off)
	body := func() io.ReadCloser {
		// The transport closes a body it stops sending (a registry that
		// answered before its end, say): the wait for bytes not written
		// yet ends then, not when the build does.
		ctx, cancel := context.WithCancel(u.ctx)
		return &growingChunk{ctx: ctx, cancel: cancel, r: r, ready: ready, pos: off, end: off + chunkSize, read: &read}
	}
	failed := func(err error) (string, int64, error) { return "", read.furthest.Load() - off, err }
	req, err := http.NewRequestWithContext(transport.NoRetries(u.ctx), http.MethodPatch, loc, body())
	if err != nil {
		return failed(err)
	}
	req.GetBody = func() (io.ReadCloser, error) { return body(), nil }
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := u.client.Do(req)
	if err != nil {
		return failed(err)
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusAccepted {
		return failed(statusError(resp))
	}
	end := read.ended.Load()
	if end < 0 {
		return failed(errors.New("registry answered before the chunk ended"))
	}
	if last, ok := rangeEnd(resp.Header.Get("Range")); !ok || last != end-1 {
		return failed(fmt.Errorf("registry has bytes up to %d after a chunk from %d to %d", last, off, end-1))
	}
	next, err := u.location(resp)
	return next, end - off, err
}

// chunkRead is what the bodies of one growing chunk have read.
type chunkRead struct {
	ended    atomic.Int64 // where the chunk ended, once a body read to its end; -1 before
	furthest atomic.Int64 // the furthest offset a body read to
}

// growingChunk reads the bytes of r from pos to end, or to the end of the
// source if it ends sooner, waiting (ready) for those not yet written.
type growingChunk struct {
	ctx      context.Context
	cancel   context.CancelFunc
	r        io.ReaderAt
	ready    readyFunc
	pos, end int64
	read     *chunkRead
}

// growingPiece is how many bytes WriteTo waits for before it writes them
// to the request, unless the chunk or the source ends sooner. Written as
// the builder writes them, the bytes would cross the connection in as many
// small pieces, each one waking the registry (and a proxy before it).
const growingPiece = 256 << 10

// next waits until the source holds want bytes past pos (fewer where the
// chunk or the source ends) and says how many it can read; 0 at the end.
func (c *growingChunk) next(want int64) (int64, error) {
	if c.pos >= c.end {
		c.read.ended.Store(c.pos)
		return 0, nil
	}
	upTo := min(c.pos+want, c.end)
	size, complete, err := c.ready(c.ctx, upTo)
	if err != nil {
		return 0, err
	}
	if c.pos >= size {
		if complete {
			c.read.ended.Store(c.pos)
			return 0, nil
		}
		return 0, fmt.Errorf("source of %d bytes not complete, yet not ready past %d", size, c.pos)
	}
	return min(size, upTo) - c.pos, nil
}

// advance records that n more bytes were read.
func (c *growingChunk) advance(n int) {
	c.pos += int64(n)
	for far := c.read.furthest.Load(); c.pos > far && !c.read.furthest.CompareAndSwap(far, c.pos); far = c.read.furthest.Load() {
	}
}

func (c *growingChunk) Read(p []byte) (int, error) {
	n, err := c.next(1)
	if err != nil || n == 0 {
		return 0, cmp.Or(err, io.EOF)
	}
	p = p[:min(int64(len(p)), n)]
	m, err := c.r.ReadAt(p, c.pos)
	c.advance(m)
	if err == io.EOF && m == len(p) {
		err = nil
	}
	return m, err
}

// WriteTo, which the HTTP/1.1 transport uses to send the body, writes it in
// pieces of growingPiece bytes.
func (c *growingChunk) WriteTo(w io.Writer) (int64, error) {
	buf := make([]byte, growingPiece)
	var total int64
	for {
		n, err := c.next(growingPiece)
		if err != nil || n == 0 {
			return total, err
		}
		m, err := c.r.ReadAt(buf[:n], c.pos)
		if m < int(n) {
			return total, cmp.Or(err, io.ErrUnexpectedEOF)
		}
		written, err := w.Write(buf[:m])
		c.advance(written)
		total += int64(written)
		if err != nil {
			return total, err
		}
	}
}

func (c *growingChunk) Close() error {
	c.cancel()
	return nil
}
