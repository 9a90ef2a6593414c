//go:build darwin

package blobber

import "log/slog"

// raiseReadahead does nothing on the mount's other platform (macOS, see
// mount_unix.go): only Linux lets a mount's readahead be raised past what
// FUSE's handshake sets.
func raiseReadahead(string, *slog.Logger) {}
