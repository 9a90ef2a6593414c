package transport

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"oras.land/oras-go/v2/registry/remote/errcode"
	"oras.land/oras-go/v2/registry/remote/retry"
)

// DefaultRetries is how many times a failure is retried by default.
const DefaultRetries = 5

// The backoff: baseWait doubling per retry, up to maxWait; a Retry-After
// the server asks for is honoured up to 5×maxWait.
const (
	baseWait = 250 * time.Millisecond
	maxWait  = 10 * time.Second
)

// Policy is blobber's one retry policy: oras-go's GenericPolicy with the
// predicate retryable and an exponential, jittered backoff that honours
// Retry-After. Each failure is retried by one loop only, so that attempts
// do not multiply: the transport retries every request it can send again
// by itself; the loops that resume what a request cannot redo (a body cut
// off mid-stream, an upload chunk the registry took part of, an upload body
// that cannot be rewound) send their requests with NoRetries and apply the
// same Policy themselves.
type Policy struct {
	retry.GenericPolicy
}

// NewPolicy returns the policy for retries as WithRetries takes it: 0 is
// DefaultRetries, a negative number none.
func NewPolicy(retries int) *Policy { return newPolicy(retries, baseWait, maxWait, time.Now) }

func newPolicy(retries int, base, max time.Duration, now func() time.Time) *Policy {
	switch {
	case retries == 0:
		retries = DefaultRetries
	case retries < 0:
		retries = 0
	}
	return &Policy{retry.GenericPolicy{
		Retryable: func(resp *http.Response, err error) (bool, error) { return retryable(resp, err), nil },
		Backoff:   backoff(base, max, now),
		MaxWait:   5 * max,
		MaxRetry:  retries,
	}}
}

// Retries is how many times a failure is retried.
func (p *Policy) Retries() int { return p.MaxRetry }

// Again tells whether retry number attempt (from 0) of a failure the
// caller judged worth retrying may happen, and after how long: the backoff,
// or what resp (nil when there was no answer) says in Retry-After.
func (p *Policy) Again(attempt int, resp *http.Response) (time.Duration, bool) {
	if attempt >= p.MaxRetry {
		return 0, false
	}
	return min(p.Backoff(attempt, resp), p.MaxWait), true
}

// Wait sleeps for d, or until ctx is done (its error then).
func Wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// retryable: 408, 429, 5xx (except 501 and 505), connection resets, cut
// responses and timeouts. Other statuses — 400, 403, 404 among them — are
// final. (401 is answered by the auth layer above, which fetches a token
// and tries once more.)
func retryable(resp *http.Response, err error) bool {
	if err != nil {
		var ne net.Error
		return errors.As(err, &ne) && ne.Timeout() ||
			errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
	}
	switch c := resp.StatusCode; {
	case c == http.StatusRequestTimeout, c == http.StatusTooManyRequests:
		return true
	case c >= 500 && c != http.StatusNotImplemented && c != http.StatusHTTPVersionNotSupported:
		return true
	}
	return false
}

// Retryable tells whether an error from a finished request (a registry's
// error response, or a network failure) is one the policy retries.
func Retryable(err error) bool {
	var resp *errcode.ErrorResponse
	if errors.As(err, &resp) {
		return retryable(&http.Response{StatusCode: resp.StatusCode}, nil)
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF)
}

// backoff waits what Retry-After says when the server says it (in seconds
// or as an HTTP date), else base·2^attempt up to max, ±20% so that clients
// that failed together do not retry together.
func backoff(base, max time.Duration, now func() time.Time) retry.Backoff {
	return func(attempt int, resp *http.Response) time.Duration {
		if resp != nil {
			if d, ok := retryAfter(resp.Header.Get("Retry-After"), now); ok {
				return d
			}
		}
		d := min(float64(base)*float64(uint(1)<<min(attempt, 20)), float64(max))
		return time.Duration(d * (0.8 + 0.4*rand.Float64()))
	}
}

func retryAfter(v string, now func() time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now())), true
	}
	return 0, false
}
