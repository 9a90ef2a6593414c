//go:build !unix

package extract

import "io/fs"

// createNew creates the file name, which must not exist, in the staging
// directory, as openNew does; Commit sets its permissions.
func (d *Dir) createNew(name string, _ fs.FileMode) (fileHandle, bool, error) {
	f, err := d.openNew(name)
	if err != nil {
		return nil, false, err
	}
	return f, false, nil
}
