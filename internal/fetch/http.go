// Package fetch reads byte ranges of one blob from a registry: an
// io.ReaderAt over HTTP range requests that never reads past the blob's
// declared size and never hands back bytes from the wrong offset.
package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	digest "github.com/opencontainers/go-digest"
	"oras.land/oras-go/v2/registry/remote/errcode"

	"github.com/blobber-dev/blobber/internal/errdef"
	"github.com/blobber-dev/blobber/internal/transport"
)

// Doer sends HTTP requests; oras-go's auth.Client is one, and adds the
// registry's authentication.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// answer is an unexpected status: an *errcode.ErrorResponse (errors.As
// finds it) for a GET of the blob's registry URL, and what the retry loop
// needs of the response besides.
type answer struct {
	*errcode.ErrorResponse
	header http.Header
	// redirected: the status came from where the registry redirected to
	// (blob storage, a CDN), not from the registry itself.
	redirected bool
}

func (a *answer) Unwrap() error { return a.ErrorResponse }

// ErrWrongRange: the server answered a range request with other bytes
// than those asked for.
var ErrWrongRange = errdef.Kind("wrong range", errdef.ErrDigestMismatch)

// Blob reads ranges of one blob. The context it was made with bounds every
// read, so it can serve io.ReaderAt callers that know nothing of contexts.
type Blob struct {
	ctx    context.Context
	client Doer
	url    string
	size   int64
	digest digest.Digest // checks a blob the registry sends whole (WithDigest)
	whole  wholeBlob
	ahead  ahead
	policy *transport.Policy // nil: transport.NewPolicy(0)
}

// WithPolicy sets the retry policy of ReadAt (see ReadAt).
func (b *Blob) WithPolicy(p *transport.Policy) *Blob {
	b.policy = p
	return b
}

// NewBlob returns a reader of the blob at url (a registry's
// /v2/<name>/blobs/<digest> address) of size bytes.
func NewBlob(ctx context.Context, client Doer, url string, size int64) *Blob {
	return &Blob{ctx: ctx, client: client, url: url, size: size}
}

// Size is the blob's declared size.
func (b *Blob) Size() int64 { return b.size }

// ReadAt reads len(p) bytes at off with a range request, or from the
// response of one an earlier read left open (see ReadAhead). When a
// connection drops mid-body, the read resumes from the first byte it has
// not received yet instead of starting over, at once. Its GETs are sent
// once by the transport (transport.NoRetries): this loop is the one that
// retries them, under the blob's policy, which bounds the attempts in a
// row that bring no new byte. A signed storage URL that expired (a 403
// from where the registry redirected to) counts as such an attempt: the
// registry hands out a fresh one on the next request.
func (b *Blob) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if off >= b.size {
		return 0, io.EOF
	}
	policy := b.policy
	if policy == nil {
		policy = transport.NewPolicy(0)
	}
	ctx := transport.NoRetries(b.ctx)
	want := int(min(int64(len(p)), b.size-off))
	n, stalls := 0, 0
	for n < want {
		if err := b.ctx.Err(); err != nil {
			return n, err
		}
		at := off + int64(n)
		s, reused, err := b.stream(ctx, at, int64(want-n))
		var status *answer
		switch {
		case err == nil:
			m, rerr := io.ReadFull(s.body, p[n:want])
			n += m
			if rerr == nil {
				s.next = at + int64(m)
				b.ahead.park(s)
				continue
			}
			s.body.Close()
			if m > 0 || reused {
				// Progress, or a response left open that the server
				// has closed since: neither is a stall.
				if m > 0 {
					stalls = 0
				}
				continue
			}
			err = fmt.Errorf("reading bytes %d-%d: %d attempts without progress: %w", off+int64(n), off+int64(want)-1, stalls+1, rerr)
		case errors.Is(err, ErrDigestMismatch), errors.Is(err, errClosed):
			return n, err
		case errors.As(err, &status):
			expired := status.redirected && status.StatusCode == http.StatusForbidden
			if !expired && !transport.Retryable(err) {
				return n, err
			}
		}
		var resp *http.Response
		if status != nil {
			resp = &http.Response{StatusCode: status.StatusCode, Header: status.header}
		}
		wait, again := policy.Again(stalls, resp)
		if !again {
			return n, err
		}
		stalls++
		if err := transport.Wait(b.ctx, wait); err != nil {
			return n, err
		}
	}
	if want < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Range opens the bytes [off, off+n) of the blob as a stream. A server that
// ignores the Range header and sends the whole blob gets one download of
// it, kept in a temporary file (see wholeBlob); either way the stream
// yields exactly those bytes or fails.
func (b *Blob) Range(off, n int64) (io.ReadCloser, error) {
	return b.open(b.ctx, off, n)
}

func (b *Blob) open(ctx context.Context, off, n int64) (io.ReadCloser, error) {
	if off < 0 || n < 0 || off+n > b.size {
		return nil, fmt.Errorf("range %d+%d is outside the blob of %d bytes", off, n, b.size)
	}
	if rc, ok, err := b.fromWhole(off, n); ok {
		return rc, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.url, nil)
	if err != nil {
		return nil, err
	}
	whole := off == 0 && n == b.size
	if !whole {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", off, off+n-1))
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusPartialContent:
		if err := checkContentRange(resp.Header.Get("Content-Range"), off, n, b.size); err != nil {
			resp.Body.Close()
			return nil, err
		}
	case http.StatusOK:
		if !whole {
			return b.adoptWhole(resp.Body, off, n)
		}
		if _, err := io.CopyN(io.Discard, resp.Body, off); err != nil {
			resp.Body.Close()
			return nil, fmt.Errorf("skipping to %d of a full response: %w", off, err)
		}
	default:
		defer resp.Body.Close()
		// The error names the registry's URL, which the caller asked for,
		// even when the status came from where it redirected to.
		redirected := resp.Request != nil && resp.Request.URL.String() != b.url
		e := transport.ErrorResponse(resp)
		e.Method, e.URL = http.MethodGet, req.URL
		return nil, &answer{ErrorResponse: e, header: resp.Header, redirected: redirected}
	}
	return readCloser{io.LimitReader(resp.Body, n), resp.Body}, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// checkContentRange accepts only "bytes off-(off+n-1)/size" (or "/*").
func checkContentRange(h string, off, n, size int64) error {
	bad := fmt.Errorf("server answered range %d+%d with Content-Range %q: %w", off, n, h, ErrWrongRange)
	spec, ok := strings.CutPrefix(h, "bytes ")
	if !ok {
		return bad
	}
	rng, total, ok := strings.Cut(spec, "/")
	if !ok {
		return bad
	}
	first, last, ok := strings.Cut(rng, "-")
	if !ok {
		return bad
	}
	f, err1 := strconv.ParseInt(first, 10, 64)
	l, err2 := strconv.ParseInt(last, 10, 64)
	if err1 != nil || err2 != nil || f != off || l != off+n-1 {
		return bad
	}
	if total != "*" {
		if t, err := strconv.ParseInt(total, 10, 64); err != nil || t != size {
			return bad
		}
	}
	return nil
}
