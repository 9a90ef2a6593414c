package registrytest

import (
	"errors"
	"io"
	"net/http"
	"sync"
	"time"
)

// Fault is what the proxy does to one request instead of, or on top of,
// forwarding it: the misbehaviour of real registries, CDNs and networks.
type Fault struct {
	Status      int           // answer with this status instead of forwarding
	Header      http.Header   // extra headers for Status, e.g. Retry-After or Location
	Body        []byte        // body for Status, e.g. a registry's JSON error
	Delay       time.Duration // wait this long before answering or forwarding (a slow network)
	CutAfter    int64         // forward, but drop the connection after this many response body bytes
	IgnoreRange bool          // forward without Range, so the registry sends the whole blob with 200
	// FailUploadAfter makes the upload fail (the proxy answers 502) after
	// this many request body bytes have been read.
	FailUploadAfter int64
	// NoMount forwards a blob mount request without its mount and from
	// parameters, so the registry opens an upload session (202 Accepted)
	// as one that cannot mount does.
	NoMount bool
	// ShiftRange forwards a range request for bytes this many further on,
	// so the answer's Content-Range names other bytes than were asked for.
	ShiftRange int64
	// FlipFirstByte forwards, but changes the first byte of the response
	// body: content that no longer matches its digest.
	FlipFirstByte bool
	// EndlessPages answers a listing (tags, referrers) with a page of one
	// name whose Link header names yet another page, as a registry that
	// never ends its pagination does.
	EndlessPages bool
	// PageEntries is how many entries each page of EndlessPages holds:
	// tags 100 bytes long, or referrers of the artifact type asked for
	// (0: one short tag, no referrer).
	PageEntries int
}

// FaultFunc picks the fault for a request, or nil for none.
type FaultFunc func(r *http.Request) *Fault

// SetFaults installs f; nil removes it.
func (p *Proxy) SetFaults(f FaultFunc) {
	p.faultMu.Lock()
	p.faults = f
	p.faultMu.Unlock()
}

// applyFault handles the request itself when the fault says so (it then
// returns true), or adjusts w and r for forwarding.
func (p *Proxy) applyFault(w *http.ResponseWriter, r *http.Request) bool {
	p.faultMu.Lock()
	f := p.faults
	p.faultMu.Unlock()
	if f == nil {
		return false
	}
	fault := f(r)
	if fault == nil {
		return false
	}
	if fault.Delay > 0 {
		select {
		case <-time.After(fault.Delay):
		case <-r.Context().Done():
		}
	}
	if fault.Status != 0 {
		for k, v := range fault.Header {
			(*w).Header()[k] = v
		}
		if len(fault.Body) > 0 && (*w).Header().Get("Content-Type") == "" {
			(*w).Header().Set("Content-Type", "application/json")
		}
		(*w).WriteHeader(fault.Status)
		_, _ = (*w).Write(fault.Body)
		return true
	}
	if fault.EndlessPages {
		answerEndlessPage(*w, r, fault.PageEntries)
		return true
	}
	if fault.IgnoreRange {
		r.Header.Del("Range")
	}
	if fault.ShiftRange != 0 {
		shiftRange(r, fault.ShiftRange)
	}
	if fault.FlipFirstByte {
		*w = &flippingWriter{ResponseWriter: *w}
	}
	if fault.NoMount {
		q := r.URL.Query()
		q.Del("mount")
		q.Del("from")
		r.URL.RawQuery = q.Encode()
	}
	if fault.CutAfter > 0 {
		*w = &cuttingWriter{ResponseWriter: *w, left: fault.CutAfter}
	}
	if fault.FailUploadAfter > 0 && r.Body != nil {
		r.Body = &failingBody{ReadCloser: r.Body, left: fault.FailUploadAfter}
	}
	return false
}

// cuttingWriter drops the connection once it has written its quota.
type cuttingWriter struct {
	http.ResponseWriter
	mu   sync.Mutex
	left int64
}

func (w *cuttingWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if int64(len(b)) > w.left {
		n, _ := w.ResponseWriter.Write(b[:w.left])
		_ = http.NewResponseController(w.ResponseWriter).Flush()
		w.left = 0
		_ = n
		// The server closes the connection mid-body: the client sees an
		// unexpected EOF, as when a network drops.
		panic(http.ErrAbortHandler)
	}
	w.left -= int64(len(b))
	return w.ResponseWriter.Write(b)
}

func (w *cuttingWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *cuttingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

var errInjected = errors.New("registrytest: injected upload failure")

type failingBody struct {
	io.ReadCloser
	left int64
}

func (b *failingBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errInjected
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}
