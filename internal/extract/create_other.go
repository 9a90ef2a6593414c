//go:build !unix

package extract

import "os"

// createNew creates the file name, which must not exist, in the staging
// directory, as openNew does.
func (d *Dir) createNew(name string) (*os.File, error) { return d.openNew(name) }
