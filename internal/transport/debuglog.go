package transport

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// debugLog logs every request it sends, one line each when its response
// body is done (or at once when there is no response): method, URL, status,
// bytes, duration and the retry number. It sits under the retries, so that
// each attempt is a line of its own, and under authentication only in the
// sense that it never logs a header: an Authorization header, a token or a
// password never reaches the log, nor does a query value that may sign a
// URL (see redactURL).
type debugLog struct {
	base http.RoundTripper
	log  *slog.Logger
}

// attemptKey holds the attempt counter of one request through the retries.
type attemptKey struct{}

// countAttempts gives req a counter that debugLog advances at each attempt.
func countAttempts(req *http.Request) *http.Request {
	return req.WithContext(context.WithValue(req.Context(), attemptKey{}, new(atomic.Int32)))
}

func (d debugLog) RoundTrip(req *http.Request) (*http.Response, error) {
	retry := int32(0)
	if n, ok := req.Context().Value(attemptKey{}).(*atomic.Int32); ok {
		retry = n.Add(1) - 1
	}
	attrs := []any{"method", req.Method, "url", redactURL(req.URL), "retry", retry}
	if req.ContentLength > 0 {
		attrs = append(attrs, "sent", req.ContentLength)
	}
	start := time.Now()
	resp, err := d.base.RoundTrip(req)
	if err != nil {
		d.log.DebugContext(req.Context(), "http request", append(attrs, "duration", time.Since(start), "error", err)...)
		return resp, err
	}
	attrs = append(attrs, "status", resp.StatusCode)
	if resp.Body == nil || resp.Body == http.NoBody {
		d.log.DebugContext(req.Context(), "http request", append(attrs, "bytes", 0, "duration", time.Since(start))...)
		return resp, nil
	}
	resp.Body = &loggedBody{ReadCloser: resp.Body, done: func(n int64) {
		d.log.DebugContext(req.Context(), "http request", append(attrs, "bytes", n, "duration", time.Since(start))...)
	}}
	return resp, nil
}

// loggedBody counts the bytes read of a response and reports them once,
// at its end or when it is closed.
type loggedBody struct {
	io.ReadCloser
	n    atomic.Int64
	once sync.Once
	done func(n int64)
}

func (b *loggedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	if err != nil {
		b.once.Do(func() { b.done(b.n.Load()) })
	}
	return n, err
}

func (b *loggedBody) Close() error {
	b.once.Do(func() { b.done(b.n.Load()) })
	return b.ReadCloser.Close()
}

// registryQueryKeys are the query parameters of the registry API and its
// token endpoint, which carry no secret. Any other value is hidden: a
// blob's storage redirect is often a signed URL whose query is its
// credential (X-Amz-Signature, sig, token…), and an upload's location
// carries the registry's signed state.
var registryQueryKeys = map[string]bool{
	"digest": true, "mount": true, "from": true, "n": true, "last": true,
	"scope": true, "service": true, "artifactType": true,
}

// redactURL is u without user information and with every query value
// that may be a secret replaced.
func redactURL(u *url.URL) string {
	r := *u
	r.User = nil
	r.Fragment, r.RawFragment = "", ""
	if r.RawQuery != "" {
		q := r.Query()
		for k, vs := range q {
			if !registryQueryKeys[k] {
				for i := range vs {
					vs[i] = "REDACTED"
				}
			}
		}
		r.RawQuery = q.Encode()
	}
	return r.String()
}
