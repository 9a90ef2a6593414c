//go:build !unix

package extract

import (
	"io/fs"
	"testing"
)

func withUmask(t *testing.T, _ fs.FileMode) {
	t.Skip("no umask on this system")
}
