package registrytest

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Stats is a snapshot of the traffic seen by a [Proxy].
type Stats struct {
	Requests         int64 // all requests
	BlobRequests     int64 // GET/HEAD /v2/<name>/blobs/<digest>
	BlobBytes        int64 // response body bytes sent to the client for blob GETs
	ManifestRequests int64 // any method on /v2/<name>/manifests/<ref>
	UploadRequests   int64 // any method on /v2/<name>/blobs/uploads/...
	UploadBytes      int64 // request body bytes sent on upload requests
	MountRequests    int64 // POST /v2/<name>/blobs/uploads/?mount=<digest>&from=<repository>
	Mounts           int64 // mount requests answered 201 Created: the blob was mounted
}

// Proxy is a reverse proxy in front of a registry that counts requests and
// bytes. It is safe for concurrent use.
type Proxy struct {
	srv    *http.Server
	rp     *httputil.ReverseProxy
	tr     *http.Transport
	target *url.URL
	host   string

	mu    sync.Mutex
	stats Stats

	faultMu sync.Mutex
	faults  FaultFunc

	closeOnce sync.Once
}

// CountingProxy starts a counting proxy in front of r and closes it when the
// test finishes.
func (r *Registry) CountingProxy(t testing.TB) *Proxy {
	t.Helper()
	p, err := newCountingProxy(r.URL(), r.clientTLS)
	if err != nil {
		t.Fatalf("registrytest: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

// NewCountingProxy starts a counting proxy on 127.0.0.1 that forwards to
// target, a base URL such as "http://127.0.0.1:5000". The caller must call
// Close.
func NewCountingProxy(target string) (*Proxy, error) {
	return newCountingProxy(target, nil)
}

// newCountingProxy is NewCountingProxy to a target reached with tlsConfig
// (the proxy itself speaks plain HTTP).
func newCountingProxy(target string, tlsConfig *tls.Config) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("bad proxy target %q", target)
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	p := &Proxy{target: u, host: ln.Addr().String()}
	p.tr = http.DefaultTransport.(*http.Transport).Clone()
	p.tr.Proxy = nil               // never go via an environment proxy
	p.tr.DisableCompression = true // count the bytes the registry really sent
	// Keep a connection per request in flight (blobber pulls with several):
	// with the default 2, the proxy would redial the registry every round.
	p.tr.MaxIdleConnsPerHost = 64
	if tlsConfig != nil {
		p.tr.TLSClientConfig = tlsConfig.Clone()
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			// Keep the client's Host so Distribution builds Location URLs
			// that point back at the proxy.
			pr.Out.Host = pr.In.Host
		},
		ModifyResponse: p.rewriteLocation,
		Transport:      p.tr,
		// Flush every write so bytes are counted as they reach the client.
		FlushInterval: -1,
		ErrorLog:      discardLog,
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 30 * time.Second, ErrorLog: discardLog}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// Host returns the proxy's host:port, for use in image references.
func (p *Proxy) Host() string { return p.host }

// URL returns the proxy's base URL, e.g. "http://127.0.0.1:41235".
func (p *Proxy) URL() string { return "http://" + p.host }

// Stats returns a snapshot of the counters.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// Reset zeroes the counters. Requests in flight may still add bytes.
func (p *Proxy) Reset() {
	p.mu.Lock()
	p.stats = Stats{}
	p.mu.Unlock()
}

// Close stops the proxy. It is safe to call more than once.
func (p *Proxy) Close() {
	p.closeOnce.Do(func() {
		shutdownServer(p.srv)
		p.tr.CloseIdleConnections()
	})
}

func (p *Proxy) add(f func(*Stats)) {
	p.mu.Lock()
	f(&p.stats)
	p.mu.Unlock()
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	kind := classify(r.URL.Path)
	mount := kind == kindUpload && r.Method == http.MethodPost && r.URL.Query().Has("mount")
	p.add(func(s *Stats) {
		s.Requests++
		switch kind {
		case kindBlob:
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				s.BlobRequests++
			}
		case kindManifest:
			s.ManifestRequests++
		case kindUpload:
			s.UploadRequests++
		}
		if mount {
			s.MountRequests++
		}
	})
	if mount {
		w = &mountWriter{ResponseWriter: w, mounted: func() { p.add(func(s *Stats) { s.Mounts++ }) }}
	}

	if kind == kindUpload && r.Body != nil && r.Body != http.NoBody {
		r.Body = &countingBody{ReadCloser: r.Body, add: func(n int64) {
			p.add(func(s *Stats) { s.UploadBytes += n })
		}}
	}
	if p.applyFault(&w, r) {
		return
	}
	if kind == kindBlob && r.Method == http.MethodGet {
		w = &countingWriter{ResponseWriter: w, add: func(n int64) {
			p.add(func(s *Stats) { s.BlobBytes += n })
		}}
	}
	p.rp.ServeHTTP(w, r)
}

// rewriteLocation points absolute Location headers that name the registry
// back at the proxy, over plain HTTP. With the Host header preserved Distribution already
// does this; the rewrite covers registries configured with http.host.
func (p *Proxy) rewriteLocation(resp *http.Response) error {
	loc := resp.Header.Get("Location")
	if loc == "" {
		return nil
	}
	u, err := url.Parse(loc)
	// A Location on the proxy's own host may still say https when the
	// registry behind it serves HTTPS.
	if err != nil || u.Host != p.target.Host && u.Host != p.host {
		return nil
	}
	u.Scheme, u.Host = "http", p.host
	resp.Header.Set("Location", u.String())
	return nil
}

type requestKind int

const (
	kindOther requestKind = iota
	kindBlob
	kindManifest
	kindUpload
)

// classify maps a request path to its kind of registry API call. Repository
// names may contain slashes, so it looks at the trailing path segments:
//
//	/v2/<name>/blobs/<digest>
//	/v2/<name>/manifests/<reference>
//	/v2/<name>/blobs/uploads/[<uuid>]
func classify(path string) requestKind {
	rest, ok := strings.CutPrefix(path, "/v2/")
	if !ok {
		return kindOther
	}
	seg := strings.Split(rest, "/")
	n := len(seg)
	switch {
	case n >= 2 && seg[n-2] == "blobs" && strings.Contains(seg[n-1], ":"):
		return kindBlob
	case n >= 2 && seg[n-2] == "manifests":
		return kindManifest
	case n >= 3 && seg[n-3] == "blobs" && seg[n-2] == "uploads",
		n >= 2 && seg[n-2] == "blobs" && seg[n-1] == "uploads":
		return kindUpload
	}
	return kindOther
}

// countingWriter counts response body bytes as they are written to the client.
type countingWriter struct {
	http.ResponseWriter
	add func(int64)
}

func (w *countingWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.add(int64(n))
	return n, err
}

func (w *countingWriter) Flush() {
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// mountWriter tells when a mount request is answered 201 Created.
type mountWriter struct {
	http.ResponseWriter
	mounted func()
}

func (w *mountWriter) WriteHeader(status int) {
	if status == http.StatusCreated {
		w.mounted()
	}
	w.ResponseWriter.WriteHeader(status)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *mountWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// countingBody counts request body bytes as the proxy reads them.
type countingBody struct {
	io.ReadCloser
	add func(int64)
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.add(int64(n))
	}
	return n, err
}
