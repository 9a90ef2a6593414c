//go:build !linux && !darwin && !freebsd && !netbsd

package push

import "io/fs"

// fileIdentity has no change time or inode to go on here (Windows has
// neither in os.FileInfo), and a modification time alone can be set back
// by any tool: without a fingerprint, every push builds its layer.
func fileIdentity(fs.FileInfo) (string, bool) { return "", false }

// appendIdentity has nothing to append either (see fileIdentity).
func appendIdentity(b []byte, _ fs.FileInfo) ([]byte, bool) { return b, false }
