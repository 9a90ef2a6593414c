package blobber

import (
	"context"
	"log/slog"
)

// WithDebugLogger logs to l, at debug level, what WithLogger leaves out
// because it is too much for a summary: every HTTP request attempt (method,
// URL, status, bytes, duration, retry number), the fall back to plain
// HTTP for a registry on this machine, and the cache's hits and misses. It never logs a credential: no
// header is logged, and query values that may sign a URL are hidden.
func WithDebugLogger(l *slog.Logger) Option {
	return func(o *options) error { o.target.Debug = l; return nil }
}

// debugCache logs, with WithDebugLogger, whether the cache answered: hit
// tells which.
func (o *options) debugCache(ctx context.Context, what string, hit bool, args ...any) {
	if o.target.Debug == nil {
		return
	}
	msg := "cache miss"
	if hit {
		msg = "cache hit"
	}
	o.target.Debug.DebugContext(ctx, msg, append([]any{"what", what}, args...)...)
}

// missLog is the layer's network reader under the cache: every read that
// reaches it is a range the cache lacked.
type missLog struct {
	layerReader
	ctx  context.Context
	opts *options
	name string
}

func (m missLog) ReadAhead(off, n int64) { readAhead(m.layerReader, off, n) }

func (m missLog) ReadAt(p []byte, off int64) (int, error) {
	m.opts.debugCache(m.ctx, "layer bytes", false, "artifact", m.name, "offset", off, "length", len(p))
	return m.layerReader.ReadAt(p, off)
}
