// Package transport builds the HTTP stack blobber talks to registries
// through: TLS settings (CAs, client certificates), the environment's proxy,
// and retries under blobber's one retry Policy; and it tells whether a
// registry speaks TLS at all.
package transport

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net/http"

	"oras.land/oras-go/v2/registry/remote/retry"
)

// Options configure the stack.
type Options struct {
	Insecure bool              // skip TLS verification
	TLS      *tls.Config       // CAs and client certificates (see [TLS.Config]); overrides Insecure
	Retries  int               // attempts after the first; 0 means DefaultRetries, <0 none
	Base     http.RoundTripper // under the retries; nil: a tuned clone of http.DefaultTransport
	Debug    *slog.Logger      // logs every request attempt (debuglog.go); nil: none
}

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
	if o.Debug != nil {
		base = debugLog{base: base, log: o.Debug}
	}
	p := NewPolicy(o.Retries)
	return stack{counting: o.Debug != nil, retrying: &retry.Transport{Base: base, Policy: func() retry.Policy { return p }}, once: base}
}

// NoRetries marks requests the transport sends once: a loop above it
// retries them under the same Policy (see Policy).
func NoRetries(ctx context.Context) context.Context {
	return context.WithValue(ctx, noRetriesKey{}, true)
}

type noRetriesKey struct{}

// stack retries requests, except those marked with NoRetries.
type stack struct {
	retrying, once http.RoundTripper
	counting       bool // number each attempt for the debug log
}

func (s stack) RoundTrip(req *http.Request) (*http.Response, error) {
	if s.counting {
		req = countAttempts(req)
	}
	if req.Context().Value(noRetriesKey{}) != nil {
		return s.once.RoundTrip(req)
	}
	return s.retrying.RoundTrip(req)
}
