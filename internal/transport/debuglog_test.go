package transport

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
)

// TestDebugLogNumbersRetries: each attempt of a retried request is a line
// of its own, with its retry number, status and bytes.
func TestDebugLogNumbersRetries(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "hello")
	}))
	defer srv.Close()
	var log bytes.Buffer
	client := &http.Client{Transport: New(Options{Retries: 2, Debug: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))})}
	resp, err := client.Get(srv.URL + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`msg="http request" method=GET url=` + srv.URL + `/v2/ retry=0 status=503 bytes=0 duration=`,
		`msg="http request" method=GET url=` + srv.URL + `/v2/ retry=1 status=200 bytes=5 duration=`,
	} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
}

// TestRedactURL: user information and every query value that may sign a
// URL are hidden; the registry API's own parameters are kept.
func TestRedactURL(t *testing.T) {
	for raw, want := range map[string]string{
		"https://alice:s3cret@r.example/v2/":                                         "https://r.example/v2/",
		"https://s3.example/blob?X-Amz-Signature=s3cret&X-Amz-Credential=AKIAs3cret": "https://s3.example/blob?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED",
		"https://cdn.example/b?sig=s3cret&se=2030&token=s3cret#frag":                 "https://cdn.example/b?se=REDACTED&sig=REDACTED&token=REDACTED",
		"https://r.example/v2/a/blobs/uploads/u?_state=s3cret&digest=sha256%3Aab":    "https://r.example/v2/a/blobs/uploads/u?_state=REDACTED&digest=sha256%3Aab",
		"https://r.example/v2/a/blobs/uploads/?mount=sha256%3Aab&from=b":             "https://r.example/v2/a/blobs/uploads/?from=b&mount=sha256%3Aab",
		"https://auth.example/token?scope=repository%3Aa%3Apull&service=r&account=x": "https://auth.example/token?account=REDACTED&scope=repository%3Aa%3Apull&service=r",
		"https://r.example/v2/a/tags/list?n=100&last=v1":                             "https://r.example/v2/a/tags/list?last=v1&n=100",
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		got := redactURL(u)
		if got != want {
			t.Errorf("redactURL(%s) = %s, want %s", raw, got, want)
		}
		if regexp.MustCompile(`s3cret|frag`).MatchString(got) {
			t.Errorf("redactURL(%s) = %s: a secret shows", raw, got)
		}
	}
}
