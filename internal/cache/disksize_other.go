//go:build !unix

package cache

import "io/fs"

// diskSize is the apparent size where os.FileInfo says nothing of
// allocated blocks: a sparse partial blob is counted as if whole.
func diskSize(fi fs.FileInfo) int64 { return fi.Size() }
