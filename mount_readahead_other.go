//go:build !linux

package blobber

import "log/slog"

// raiseReadahead does nothing here: only Linux lets a mount's readahead
// be raised past what FUSE's handshake sets.
func raiseReadahead(string, *slog.Logger) {}
