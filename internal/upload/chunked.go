// Package upload sends a blob to a registry in chunks — POST to open an
// upload session, PATCH each chunk with its Content-Range, PUT with the
// digest to close it — and resumes a failed chunk from the offset the
// registry says it has, instead of starting over. Monolithic uploads stay
// oras-go's; this is for very large blobs and flaky links.
package upload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote/errcode"

	"github.com/blobber-dev/blobber/internal/transport"
)

// Doer sends requests with the registry's authentication (oras-go's
// auth.Client).
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// Chunked uploads the blob desc, read from r, to the repository whose API
// base is repoURL ("https://host/v2/name"), chunkSize bytes per PATCH. A
// chunk that fails is resumed from the registry's own account of what it
// received, as often in a row without progress as policy retries.
func Chunked(ctx context.Context, client Doer, repoURL string, desc ocispec.Descriptor, r io.ReaderAt, chunkSize int64, policy *transport.Policy) error {
	if chunkSize <= 0 {
		return errors.New("chunk size must be positive")
	}
	u, err := newUploader(ctx, client, repoURL)
	if err != nil {
		return err
	}
	loc, err := u.start(repoURL + "/blobs/uploads/")
	if err != nil {
		return fmt.Errorf("starting upload: %w", err)
	}
	whole := func(context.Context, int64) (int64, bool, error) { return desc.Size, true, nil }
	loc, _, err = u.sendChunks(loc, r, whole, chunkSize, policy)
	if err != nil {
		return err
	}
	return u.finish(loc, desc)
}

// readyFunc waits until the source holds at least want bytes, or holds
// all it will, and returns its size then and whether that is all.
type readyFunc func(ctx context.Context, want int64) (size int64, complete bool, err error)

// sendChunks PATCHes the bytes of r into the session at loc, chunkSize at
// a time, as ready makes them available, until the source is complete. A
// chunk the source holds whole goes with its length and Content-Range; one
// still being written starts as soon as its first bytes are there and
// grows with the source (patchGrowing), rather than waiting for its end,
// which for a blob smaller than a chunk is the end of the build.
// It returns the session's latest location (on an error too: it is where
// to cancel it) and how many bytes the registry holds. Each PATCH is sent
// once by the transport (NoRetries): this loop is the one that retries it,
// under policy, from what the registry holds.
func (u *uploader) sendChunks(loc string, r io.ReaderAt, ready readyFunc, chunkSize int64, policy *transport.Policy) (string, int64, error) {
	var off int64
	failures := 0
	for {
		size, complete, err := ready(u.ctx, off+1)
		if err != nil {
			return loc, off, err
		}
		if complete && off >= size {
			return loc, off, nil
		}
		n := min(chunkSize, size-off)
		var next string
		if complete || n == chunkSize {
			next, err = u.patch(loc, r, off, n)
		} else {
			next, n, err = u.patchGrowing(loc, r, ready, off, chunkSize)
		}
		if err == nil {
			loc, off, failures = next, off+n, 0
			continue
		}
		if u.ctx.Err() != nil {
			return loc, off, u.ctx.Err()
		}
		if Refused(err) {
			return loc, off, fmt.Errorf("uploading bytes %d-%d: %w", off, off+n-1, err)
		}
		wait, again := policy.Again(failures, response(err))
		if !again {
			return loc, off, fmt.Errorf("uploading bytes %d-%d: %w", off, off+n-1, err)
		}
		failures++
		// Give the registry time to finish with the failed request (it may
		// still be storing what it received), then ask how much it has and
		// continue from there.
		if err := transport.Wait(u.ctx, wait); err != nil {
			return loc, off, err
		}
		have, next, serr := u.status(loc)
		if serr == nil && (have < 0 || have > off+n) {
			serr = fmt.Errorf("it claims %d bytes, after a chunk ending at %d", have, off+n)
		}
		if serr != nil {
			return loc, off, fmt.Errorf("uploading bytes %d-%d: %w (and the upload's status: %v)", off, off+n-1, err, serr)
		}
		if have > off {
			failures = 0
		}
		loc, off = next, have
	}
}

type uploader struct {
	ctx      context.Context
	client   Doer
	registry *url.URL // the repository's API base, which upload Locations must stay on
}

func newUploader(ctx context.Context, client Doer, repoURL string) (*uploader, error) {
	base, err := url.Parse(repoURL)
	if err != nil {
		return nil, err
	}
	return &uploader{ctx: ctx, client: client, registry: base}, nil
}

// do sends a request without a body (patch sends the chunks).
func (u *uploader) do(method, target string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(u.ctx, method, target, nil)
	if err != nil {
		return nil, err
	}
	return u.client.Do(req)
}

func (u *uploader) start(uploadsURL string) (string, error) {
	resp, err := u.do(http.MethodPost, uploadsURL)
	if err != nil {
		return "", err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusAccepted {
		return "", statusError(resp)
	}
	return u.location(resp)
}

// patch sends the n bytes of r at off. The request can be sent again
// (GetBody), as auth.Client does after a token expired.
func (u *uploader) patch(loc string, r io.ReaderAt, off, n int64) (string, error) {
	req, err := http.NewRequestWithContext(transport.NoRetries(u.ctx), http.MethodPatch, loc, io.NewSectionReader(r, off, n))
	if err != nil {
		return "", err
	}
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(io.NewSectionReader(r, off, n)), nil }
	req.ContentLength = n
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Content-Range", fmt.Sprintf("%d-%d", off, off+n-1))
	resp, err := u.client.Do(req)
	if err != nil {
		return "", err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusAccepted {
		return "", statusError(resp)
	}
	if last, ok := rangeEnd(resp.Header.Get("Range")); ok && last != off+n-1 {
		return "", fmt.Errorf("registry has bytes up to %d after a chunk ending at %d", last, off+n-1)
	}
	return u.location(resp)
}

// status asks the upload session how many bytes it holds.
func (u *uploader) status(loc string) (int64, string, error) {
	resp, err := u.do(http.MethodGet, loc)
	if err != nil {
		return 0, "", err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusNoContent && resp.StatusCode != http.StatusOK {
		return 0, "", statusError(resp)
	}
	next, err := u.location(resp)
	if err != nil {
		next = loc
	}
	last, ok := rangeEnd(resp.Header.Get("Range"))
	if !ok || last == 0 {
		// "0-0" is what Distribution says of an empty session (and of one
		// holding a single byte, which is then sent again).
		return 0, next, nil
	}
	return last + 1, next, nil
}

func (u *uploader) finish(loc string, desc ocispec.Descriptor) error {
	target, err := url.Parse(loc)
	if err != nil {
		return err
	}
	q := target.Query()
	q.Set("digest", desc.Digest.String())
	target.RawQuery = q.Encode()
	resp, err := u.do(http.MethodPut, target.String())
	if err != nil {
		return err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("closing upload of %s: %w", desc.Digest, statusError(resp))
	}
	return nil
}

// location resolves the Location header against the request's URL, as
// registries may answer with a relative one. A Location on another host
// than the registry's, or one that drops TLS, is refused, as oras-go
// refuses it (GHSA-jxpm-75mh-9fp7): a registry must not be able to send
// the upload, and the credentials that a client holds for that other host,
// elsewhere.
func (u *uploader) location(resp *http.Response) (string, error) {
	loc := resp.Header.Get("Location")
	if loc == "" {
		return "", errors.New("registry sent no upload Location")
	}
	next, err := resp.Request.URL.Parse(loc)
	if err != nil {
		return "", fmt.Errorf("upload Location %q: %w", loc, err)
	}
	if !sameHost(next, u.registry) {
		return "", fmt.Errorf("upload Location %q is on a different host than the registry %q", next.Host, u.registry.Host)
	}
	if u.registry.Scheme == "https" && next.Scheme != "https" {
		return "", fmt.Errorf("upload Location %q downgrades the scheme from https", next.Host)
	}
	return next.String(), nil
}

// sameHost compares host names and ports, an absent port being the
// scheme's.
func sameHost(a, b *url.URL) bool {
	port := func(u *url.URL) string {
		switch {
		case u.Port() != "":
			return u.Port()
		case u.Scheme == "https":
			return "443"
		}
		return "80"
	}
	return strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

// rangeEnd reads the last byte of a "0-N" (or "bytes=0-N") Range header.
func rangeEnd(h string) (int64, bool) {
	h = strings.TrimPrefix(h, "bytes=")
	_, last, ok := strings.Cut(h, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(last, 10, 64)
	return n, err == nil
}

// Refused tells a registry's refusal of a chunk, which sending it again
// would not change (a registry that does not take chunked uploads, say),
// from a failure worth resuming: a client error other than 401 (a token
// that expired), 408, 416 (the registry holds other bytes than the client
// thought: its status says which) and 429.
func Refused(err error) bool {
	var resp *errcode.ErrorResponse
	if !errors.As(err, &resp) || resp.StatusCode < 400 || resp.StatusCode >= 500 {
		return false
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusRequestTimeout, http.StatusRequestedRangeNotSatisfiable, http.StatusTooManyRequests:
		return false
	}
	return true
}

// statusError is the registry's unexpected answer resp, decoded as oras-go
// decodes one, with the Retry-After it asked for kept for the retry loop.
func statusError(resp *http.Response) error {
	return &answer{ErrorResponse: transport.ErrorResponse(resp), header: resp.Header}
}

// answer is an *errcode.ErrorResponse (errors.As finds it) and the
// headers of the response it decodes.
type answer struct {
	*errcode.ErrorResponse
	header http.Header
}

func (a *answer) Unwrap() error { return a.ErrorResponse }

// response rebuilds what the retry policy looks at of the answer in err:
// its status and Retry-After (nil when err is not a registry's answer).
func response(err error) *http.Response {
	var a *answer
	if !errors.As(err, &a) {
		return nil
	}
	return &http.Response{StatusCode: a.StatusCode, Header: a.header}
}

func drain(resp *http.Response) {
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}
