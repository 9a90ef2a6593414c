package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// warningHandler prints the library's warnings (a cache that cannot be
// used or written, cached bytes that did not verify) as one line each,
// for a user who did not ask for --verbose: they do not fail the command,
// but the user should know.
type warningHandler struct {
	mu    *sync.Mutex
	w     io.Writer
	attrs []slog.Attr
}

func newWarningLogger(w io.Writer) *slog.Logger {
	return slog.New(&warningHandler{mu: &sync.Mutex{}, w: w})
}

func (h *warningHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h *warningHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString("blobber: warning: ")
	b.WriteString(r.Message)
	var errText string
	add := func(a slog.Attr) bool {
		if a.Key == "error" {
			errText = a.Value.String()
			return true
		}
		fmt.Fprintf(&b, " %s=%q", a.Key, a.Value.String())
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	if errText != "" {
		b.WriteString(": ")
		b.WriteString(errText)
	}
	// One line, with nothing that drives the terminal, whatever the error
	// says.
	line := oneLine(b.String()) + "\n"
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, line)
	return err
}

func (h *warningHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &warningHandler{mu: h.mu, w: h.w, attrs: append(append([]slog.Attr{}, h.attrs...), attrs...)}
}

// Warnings carry no groups worth printing; their attributes stay flat.
func (h *warningHandler) WithGroup(string) slog.Handler { return h }
