package blobber

import (
	"io/fs"

	"github.com/blobber-dev/blobber/internal/extract"
)

// DiskPerm returns the permission bits Pull gives an entry of mode m on this
// machine: the permission bits only (never setuid, setgid or sticky), with
// the process umask applied as tar does for a user other than root, and
// never world-writable. Image.CopyFile applies it too; a caller that writes
// a file of the artifact itself (with WriteFileTo) applies it to match what
// Pull would have made.
func DiskPerm(m fs.FileMode) fs.FileMode { return extract.DiskPerm(m) }
