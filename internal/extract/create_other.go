//go:build !unix

package extract

import (
	"io/fs"
	"os"
)

// createNew creates the file name, which must not exist, in the staging
// directory, as openNew does; Commit sets its permissions.
func (d *Dir) createNew(name string, _ fs.FileMode) (*os.File, bool, error) {
	f, err := d.openNew(name)
	return f, false, err
}
