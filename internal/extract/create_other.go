//go:build !unix

package extract

import "os"

// createNew creates the file name, which must not exist, in the staging
// directory, readable and writable by the owner only (Commit sets the
// mode).
func (d *Dir) createNew(name string) (*os.File, error) {
	return d.root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
}
