package blobber

import (
	"io"
	"sync/atomic"
)

// ProgressFunc is told how a long transfer advances: its phase ("read"
// while push reads the tree, "upload", "download" while pull fetches the
// layer, "copy" while CopyFile writes its file, "transfer" while Copy sends
// contents) and the bytes done of total. It is called from several goroutines,
// every few hundred KiB at most; keep it cheap. total is 0 while it is not
// known yet (an upload that starts while its layer is being built).
type ProgressFunc func(phase string, done, total int64)

// WithProgress reports the progress of Push, Pull, CopyFile and Copy to fn (nil reports
// nothing).
func WithProgress(fn ProgressFunc) Option {
	return func(o *options) error { o.progress = fn; return nil }
}

// meter counts bytes of one phase and reports them.
type meter struct {
	fn    ProgressFunc
	phase string
	total atomic.Int64
	done  atomic.Int64
}

func (o *options) meter(phase string, total int64) *meter {
	m := &meter{fn: o.progress, phase: phase}
	m.total.Store(total)
	m.add(0)
	return m
}

func (m *meter) add(n int64) {
	if m.fn != nil {
		m.fn(m.phase, m.done.Add(n), m.total.Load())
	}
}

// setTotal makes known a total that was not.
func (m *meter) setTotal(total int64) {
	m.total.Store(total)
	m.add(0)
}

// reader counts what is read through r.
func (m *meter) reader(r io.Reader) io.Reader {
	if m.fn == nil {
		return r
	}
	return &meteredReader{r: r, m: m}
}

type meteredReader struct {
	r io.Reader
	m *meter
}

func (r *meteredReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.m.add(int64(n))
	return n, err
}

// writer counts what is written through w.
func (m *meter) writer(w io.Writer) io.Writer {
	if m.fn == nil {
		return w
	}
	return &meteredWriter{w: w, m: m}
}

type meteredWriter struct {
	w io.Writer
	m *meter
}

func (w *meteredWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	w.m.add(int64(n))
	return n, err
}
