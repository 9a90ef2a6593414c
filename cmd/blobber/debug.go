package main

import (
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/blobber-dev/blobber"
)

// debugOptions are the client options of --debug: everything -v logs,
// and every HTTP request, the plain-HTTP fallback and the cache's hits and
// misses, through one slog handler on stderr.
func (g *globalOptions) debugOptions(cmd *cobra.Command) []blobber.Option {
	if !g.debug {
		return nil
	}
	l := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	return []blobber.Option{blobber.WithLogger(l), blobber.WithDebugLogger(l)}
}
