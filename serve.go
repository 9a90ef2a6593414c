package blobber

import (
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	digest "github.com/opencontainers/go-digest"

	"github.com/blobber-dev/blobber/internal/toc"
)

// ServeOption configures the HTTP handler of Image.Handler and
// Client.Follow.
type ServeOption func(*serveOptions)

type serveOptions struct {
	noListing bool
	log       *slog.Logger
}

// WithoutListing answers a request for a directory that holds no
// index.html with 403 Forbidden instead of a listing of its entries.
func WithoutListing() ServeOption {
	return func(o *serveOptions) { o.noListing = true }
}

// WithRequestLogger logs one line per request through l, at the debug
// level: method, path, status, bytes sent and duration. Neither the query
// string nor any header is logged, so no credential can end up in the log.
func WithRequestLogger(l *slog.Logger) ServeOption {
	return func(o *serveOptions) { o.log = l }
}

// Handler serves the artifact's files over HTTP, read-only. Nothing is
// fetched until a file is requested, and then only the chunks the
// request's byte ranges cover, each verified against its digest before a
// byte of it is sent. GET and HEAD are answered; Range, If-Range,
// If-None-Match and If-Modified-Since work as with http.ServeContent,
// with the file's digest from the table of contents as a strong ETag. The
// content type comes from the name's extension (application/octet-stream
// when it has none that is known: the content is never sniffed, since
// that would read it). A directory is served by its index.html, else by a
// listing (see WithoutListing); symlinks are followed only to targets
// inside the artifact.
//
// A chunk that fails to verify before the response's headers are sent
// gives 502 Bad Gateway. One that fails later, once a status has been
// sent, aborts the response: the client sees the connection closed
// before the Content-Length it was promised, never unverified bytes.
func (img *Image) Handler(opts ...ServeOption) http.Handler {
	h := &imageHandler{img: img}
	for _, o := range opts {
		o(&h.opts)
	}
	if h.opts.log != nil {
		return logRequests(h.opts.log, h)
	}
	return h
}

type imageHandler struct {
	img  *Image
	opts serveOptions
}

func (h *imageHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "405 method not allowed (the artifact is read-only)", http.StatusMethodNotAllowed)
		return
	}
	urlPath := r.URL.Path
	if !strings.HasPrefix(urlPath, "/") {
		urlPath = "/" + urlPath
	}
	name := strings.TrimPrefix(path.Clean(urlPath), "/")
	if name == "" {
		name = "."
	}
	e, err := h.img.lookup("open", name, true)
	if err != nil {
		serveLookupError(w, err)
		return
	}
	switch e.Type {
	case toc.TypeReg:
		h.serveFile(w, r, name, e)
	case toc.TypeDir:
		h.serveDir(w, r, urlPath, name, e)
	default:
		http.Error(w, "403 forbidden: not a regular file or directory", http.StatusForbidden)
	}
}

// serveLookupError answers for a name that cannot be served: 403 for a
// symlink that leads out of the artifact, 404 for anything else missing.
func serveLookupError(w http.ResponseWriter, err error) {
	if errors.Is(err, ErrPathTraversal) {
		http.Error(w, "403 forbidden: symlink leads outside the artifact", http.StatusForbidden)
		return
	}
	http.Error(w, "404 page not found", http.StatusNotFound)
}

func (h *imageHandler) serveDir(w http.ResponseWriter, r *http.Request, urlPath, name string, e *toc.Entry) {
	if !strings.HasSuffix(urlPath, "/") {
		// Relative links in the listing (or an index.html) resolve against
		// the directory only when its URL ends with a slash.
		target := path.Base(urlPath) + "/"
		if q := r.URL.RawQuery; q != "" {
			target += "?" + q
		}
		w.Header().Set("Location", target)
		w.WriteHeader(http.StatusMovedPermanently)
		return
	}
	index := path.Join(name, "index.html")
	if ie, err := h.img.lookup("open", index, true); err == nil && ie.Type == toc.TypeReg {
		h.serveFile(w, r, index, ie)
		return
	}
	if h.opts.noListing {
		http.Error(w, "403 forbidden: directory listing is disabled", http.StatusForbidden)
		return
	}
	writeListing(w, r, urlPath, e)
}

func (h *imageHandler) serveFile(w http.ResponseWriter, r *http.Request, name string, e *toc.Entry) {
	header := w.Header()
	// Set before ServeContent, which would otherwise read the file's
	// first bytes to sniff a type.
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	header.Set("Content-Type", ctype)
	header.Set("X-Content-Type-Options", "nosniff")
	header.Set("ETag", h.etag(e, name))
	content := newRangeReader(h.img, e, r.Header.Get("Range"))
	defer content.Close()
	hw := &holdHeader{w: w}
	// ServeContent leaves Last-Modified out for a zero or epoch time.
	http.ServeContent(hw, r, name, e.ModTime(), content)
	failure := content.failure()
	if failure == nil {
		hw.release()
		return
	}
	if !hw.sent {
		// Nothing of the body has gone out: the client gets an error
		// status instead of the one ServeContent chose.
		for _, k := range []string{"Content-Length", "Content-Range", "ETag", "Last-Modified", "Content-Encoding"} {
			header.Del(k)
		}
		http.Error(w, fmt.Sprintf("502 bad gateway: %v", failure), http.StatusBadGateway)
		return
	}
	// The status and part of the body are out: end the response short of
	// its Content-Length, which the client reports as an error.
	panic(http.ErrAbortHandler)
}

// etag is the file's content digest as the TOC records it, or, for a file
// the TOC gives none, a name for the file in this artifact, which no other
// content can have either: both are strong validators.
func (h *imageHandler) etag(e *toc.Entry, name string) string {
	if d, ok := h.img.index.FileDigest(e); ok {
		return `"` + d.String() + `"`
	}
	return `"` + h.img.art.manifest.Digest.Encoded()[:32] + "-" + digest.FromString(e.Name).Encoded()[:32] + `"`
}

// holdHeader delays the status line until the first byte of the body is
// written, so that a failure to fetch that byte can still be answered
// with an error status.
type holdHeader struct {
	w      http.ResponseWriter
	status int
	sent   bool
}

func (h *holdHeader) Header() http.Header { return h.w.Header() }

func (h *holdHeader) WriteHeader(status int) {
	if h.status == 0 {
		h.status = status
	}
}

func (h *holdHeader) Write(p []byte) (int, error) {
	h.release()
	return h.w.Write(p)
}

// release sends the status held back, if any.
func (h *holdHeader) release() {
	if h.sent {
		return
	}
	h.sent = true
	if h.status != 0 {
		h.w.WriteHeader(h.status)
	}
}

func (h *holdHeader) Unwrap() http.ResponseWriter { return h.w }

// logRequests logs each request through l once it has been answered.
func logRequests(l *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recordingWriter{ResponseWriter: w}
		start := time.Now()
		defer func() {
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			l.LogAttrs(r.Context(), slog.LevelDebug, "request",
				slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", status), slog.Int64("bytes", rec.bytes),
				slog.Duration("duration", time.Since(start)))
		}()
		next.ServeHTTP(rec, r)
	})
}

// recordingWriter notes the status and the body bytes of a response.
type recordingWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *recordingWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
