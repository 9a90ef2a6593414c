//go:build !unix

package extract

import "io/fs"

// readUmask: Windows has no umask (a file's mode there only says whether it
// is read-only), so modes get the mask most Unix users have.
func readUmask() fs.FileMode { return 0o022 }
