// Package transport builds the HTTP stack blobber talks to registries
// through: TLS settings (CAs, client certificates), the environment's proxy,
// and retries with exponential backoff and jitter that honour Retry-After;
// and it tells whether a registry speaks TLS at all.
package transport

import (
	"crypto/tls"
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

// Options configure the stack.
type Options struct {
	Insecure bool              // skip TLS verification
	TLS      *tls.Config       // CAs and client certificates (see [TLS.Config]); overrides Insecure
	Retries  int               // attempts after the first; 0 means DefaultRetries, <0 none
	Base     http.RoundTripper // under the retries; nil: a tuned clone of http.DefaultTransport
}

// DefaultRetries is how many times a request is retried by default.
const DefaultRetries = 5

// New returns a RoundTripper that retries what is worth retrying.
func New(o Options) http.RoundTripper {
	base := o.Base
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone() // keeps ProxyFromEnvironment
		t.MaxIdleConnsPerHost = 64
		t.ForceAttemptHTTP2 = true
		switch {
		case o.TLS != nil:
			t.TLSClientConfig = o.TLS.Clone()
		case o.Insecure:
			t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
		}
		base = t
	}
	retries := o.Retries
	switch {
	case retries == 0:
		retries = DefaultRetries
	case retries < 0:
		retries = 0
	}
	p := &Policy{MaxRetries: retries, Base: 250 * time.Millisecond, Max: 10 * time.Second}
	return &retry.Transport{Base: base, Policy: func() retry.Policy { return p }}
}

// Policy retries 408, 429, 5xx, connection resets and timeouts, waiting
// Retry-After when the server says how long (in seconds or as an HTTP
// date), else an exponentially growing, jittered delay. Other statuses —
// 400, 403, 404 among them — are final. (401 is answered by the auth layer
// above, which fetches a token and tries once more.)
type Policy struct {
	MaxRetries int
	Base, Max  time.Duration
	now        func() time.Time
}

// Retry implements retry.Policy: a negative duration means do not retry.
func (p *Policy) Retry(attempt int, resp *http.Response, err error) (time.Duration, error) {
	if attempt >= p.MaxRetries || !retryable(resp, err) {
		return -1, nil
	}
	if resp != nil {
		if d, ok := p.retryAfter(resp.Header.Get("Retry-After")); ok {
			return min(d, 5*p.Max), nil
		}
	}
	d := float64(p.Base) * float64(uint(1)<<min(attempt, 20))
	d = min(d, float64(p.Max))
	d *= 0.8 + 0.4*rand.Float64() // ±20% jitter, so clients that failed together do not retry together
	return time.Duration(d), nil
}

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

func (p *Policy) retryAfter(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		now := time.Now
		if p.now != nil {
			now = p.now
		}
		return max(0, t.Sub(now())), true
	}
	return 0, false
}

// Retryable tells whether an error from a finished request (a registry's
// error response, or a network failure) is worth another attempt.
func Retryable(err error) bool {
	var resp *errcode.ErrorResponse
	if errors.As(err, &resp) {
		return retryable(&http.Response{StatusCode: resp.StatusCode}, nil)
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF)
}

// Backoff is the jittered delay before retry number attempt (from 0).
func Backoff(attempt int) time.Duration {
	p := Policy{MaxRetries: attempt + 1, Base: 250 * time.Millisecond, Max: 10 * time.Second}
	d, _ := p.Retry(attempt, nil, io.ErrUnexpectedEOF)
	return d
}
