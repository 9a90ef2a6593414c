package transport

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestPolicyDecisions(t *testing.T) {
	p := newPolicy(3, 100*time.Millisecond, time.Second, time.Now)
	for code, want := range map[int]bool{
		408: true, 429: true, 500: true, 502: true, 503: true, 504: true,
		400: false, 401: false, 403: false, 404: false, 501: false, 200: false,
	} {
		d, _ := p.Retry(0, &http.Response{StatusCode: code, Header: http.Header{}}, nil)
		if (d >= 0) != want {
			t.Errorf("status %d: retry=%v, want %v", code, d >= 0, want)
		}
	}
	if d, _ := p.Retry(3, &http.Response{StatusCode: 503, Header: http.Header{}}, nil); d >= 0 {
		t.Error("retried past MaxRetry")
	}
}

func TestBackoffGrowsWithJitter(t *testing.T) {
	p := newPolicy(10, 100*time.Millisecond, time.Second, time.Now)
	resp := &http.Response{StatusCode: 503, Header: http.Header{}}
	for attempt, base := range []time.Duration{100, 200, 400, 800, 1000} {
		d, _ := p.Retry(attempt, resp, nil)
		lo, hi := base*time.Millisecond*8/10, base*time.Millisecond*12/10
		if d < lo || d > hi {
			t.Errorf("attempt %d: waited %v, want within [%v, %v]", attempt, d, lo, hi)
		}
	}
}

func TestRetryAfterBothForms(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	p := newPolicy(3, time.Millisecond, 10*time.Second, func() time.Time { return now })
	for v, want := range map[string]time.Duration{
		"7": 7 * time.Second,
		now.Add(3 * time.Second).Format(http.TimeFormat): 3 * time.Second,
	} {
		d, _ := p.Retry(0, &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {v}}}, nil)
		if d != want {
			t.Errorf("Retry-After %q: waited %v, want %v", v, d, want)
		}
	}
}

// TestTransportRetriesThenSucceeds runs the whole stack against a server on
// 127.0.0.1 that throttles twice.
func TestTransportRetriesThenSucceeds(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	client := &http.Client{Transport: New(Options{})}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL, nil)
	resp, err := client.Do(req)
	if err != nil || resp.StatusCode != 200 || calls.Load() != 3 {
		t.Fatalf("resp=%v err=%v calls=%d", resp, err, calls.Load())
	}
	resp.Body.Close()

	calls.Store(0)
	notFound := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.NotFound(w, r)
	}))
	defer notFound.Close()
	resp, err = client.Get(notFound.URL)
	if err != nil || resp.StatusCode != 404 || calls.Load() != 1 {
		t.Fatalf("404 retried: calls=%d err=%v", calls.Load(), err)
	}
	resp.Body.Close()
}
