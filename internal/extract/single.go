package extract

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// WriteOne writes the regular file path by the rules of an extraction, for
// a caller that writes one file rather than a tree: the content goes to a
// hidden temporary beside path, gets DiskPerm(mode), and then replaces
// whatever path held by rename, so that path never holds part of the file.
// write must write the size bytes of content through the WriterAt it is
// given; if it or anything else fails, the temporary is removed and path
// is left as it was. The directory that holds path must exist.
func WriteOne(path string, mode fs.FileMode, size int64, write func(io.WriterAt) error) (err error) {
	path = filepath.Clean(path)
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil {
		return err
	} else if !fi.IsDir() {
		return &fs.PathError{Op: "open", Path: dir, Err: syscall.ENOTDIR}
	}
	// The per-file path: a staging directory only pays off for a tree.
	d, err := Open(dir, Options{Overwrite: true, perFile: true})
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = d.Abort() // removes the temporary and puts back what path held
		}
	}()
	f, err := d.CreateFile(filepath.Base(path), mode, size, time.Time{})
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		return err
	}
	if err := f.Commit(); err != nil {
		return err
	}
	return d.Commit()
}
