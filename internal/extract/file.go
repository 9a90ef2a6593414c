package extract

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/blobber-dev/blobber/internal/pagewrite"
)

// File is a regular file being written. Its content goes to a hidden
// temporary file beside the final name, so that a half-written file never
// appears under the name the artifact gave and Overwrite stays atomic.
type File struct {
	d       *Dir
	name    string
	tmp     string
	mode    fs.FileMode
	size    int64
	modTime time.Time

	// mu is held shared by WriteAt and exclusively by whatever closes f,
	// so that parallel writes never race with the close.
	mu     sync.RWMutex
	f      fileHandle
	done   bool
	direct bool // written under its final name (staging); tmp == name
	// permSet: the file was created with its final permissions.
	permSet bool
}

// CreateFile starts writing the regular file name, creating missing parent
// directories. The content must then be written with WriteAt, within size
// bytes, and the file finished with Commit or Discard.
func (d *Dir) CreateFile(name string, mode fs.FileMode, size int64, modTime time.Time) (_ *File, err error) {
	defer func() { err = d.userPath(err, name) }()
	return d.createFile(name, mode, size, modTime, true)
}

// WriteFile writes the regular file name whole, with data as its content:
// CreateFile, WriteAt and Commit in one, without sizing the file first.
func (d *Dir) WriteFile(name string, mode fs.FileMode, data []byte, modTime time.Time) (err error) {
	defer func() { err = d.userPath(err, name) }()
	f, err := d.createFile(name, mode, int64(len(data)), modTime, false)
	if err != nil {
		return err
	}
	if _, err := f.WriteAt(data, 0); err != nil {
		return errors.Join(err, f.Discard())
	}
	return f.Commit()
}

func (d *Dir) createFile(name string, mode fs.FileMode, size int64, modTime time.Time, truncate bool) (*File, error) {
	if err := d.begin(); err != nil {
		return nil, err
	}
	defer d.op.RUnlock()
	clean, err := CleanName(name)
	if err != nil {
		return nil, err
	}
	if clean == "." {
		return nil, existsErr(clean, "is the target directory")
	}
	if size < 0 {
		return nil, fmt.Errorf("extract: %q: negative size %d", name, size)
	}
	if err := d.makeParents(clean); err != nil {
		return nil, err
	}
	var osf fileHandle
	permSet := false
	tmp, direct := clean, d.staging != ""
	if direct {
		osf, permSet, err = d.createNew(clean, sanitizeMode(mode))
		err = twiceErr(clean, err)
	} else if err = d.precheck(clean); err == nil {
		tmp, err = withTempName(clean, func(tmp string) error {
			var err error
			osf, err = d.openNew(tmp)
			return err
		})
	}
	if err != nil {
		return nil, err
	}
	if truncate {
		if err := osf.Truncate(size); err != nil {
			osf.Close()
			_ = d.root.Remove(tmp)
			return nil, err
		}
	}
	f := &File{d: d, name: clean, tmp: tmp, mode: sanitizeMode(mode), size: size, modTime: modTime, f: osf, direct: direct, permSet: permSet}
	d.mu.Lock()
	d.open[f] = struct{}{}
	d.mu.Unlock()
	return f, nil
}

// fileHandle is an open file being written: an *os.File, or where
// createNew can, its bare descriptor (see rawFile).
type fileHandle interface {
	io.WriterAt
	Truncate(size int64) error
	Chmod(mode fs.FileMode) error
	Close() error
}

// openNew creates the file name, which must not exist, by name under the
// root, readable and writable by the owner only: the content stays private
// until Commit sets the final mode.
func (d *Dir) openNew(name string) (*os.File, error) {
	return d.root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
}

// WriteAt writes p at off. It may be called concurrently for disjoint ranges.
// Writes reaching past the size given to CreateFile are refused, so a hostile
// stream cannot grow a file beyond what the artifact declared.
func (f *File) WriteAt(p []byte, off int64) (n int, err error) {
	defer func() { err = f.d.userPath(err, f.name) }()
	if off < 0 || off > f.size || int64(len(p)) > f.size-off {
		return 0, fmt.Errorf("extract: %q: write of %d bytes at offset %d exceeds size %d", f.name, len(p), off, f.size)
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.done {
		return 0, fmt.Errorf("extract: %q: %w", f.name, fs.ErrClosed)
	}
	return pagewrite.WriteAt(f.f, p, off)
}

// Commit closes the file, applies its mode and time, and renames it to its
// final name. There is deliberately no fsync: a pull writes thousands of small
// files and a crash leaves an incomplete tree to re-pull anyway.
func (f *File) Commit() (err error) {
	d := f.d
	defer func() { err = d.userPath(err, f.name) }()
	if err := d.begin(); err != nil {
		return err
	}
	defer d.op.RUnlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return fmt.Errorf("extract: %q: already committed or discarded", f.name)
	}
	f.done = true
	defer d.forget(f)
	if !f.permSet {
		err = f.f.Chmod(f.mode)
	}
	if cerr := f.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = d.setTimes(f.tmp, f.modTime, false)
	}
	if err != nil {
		return errors.Join(err, d.root.Remove(f.tmp))
	}
	if f.direct {
		return nil // the staging directory is removed whole on Abort
	}
	return d.installOrRemove(f.tmp, f.name, kindFile)
}

// Discard abandons the file and removes its temporary. It does nothing after
// Commit, so it can be deferred.
func (f *File) Discard() error {
	f.d.op.RLock()
	defer f.d.op.RUnlock()
	if f.d.state != active {
		return nil // Commit or Abort of the Dir already cleaned up
	}
	return f.discardLocked()
}

// discardLocked needs f.d.op held, shared or exclusive.
func (f *File) discardLocked() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return nil
	}
	f.done = true
	f.d.forget(f)
	err := f.f.Close()
	if rerr := f.d.root.Remove(f.tmp); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		err = errors.Join(err, rerr)
	}
	return err
}

func (d *Dir) forget(f *File) {
	d.mu.Lock()
	delete(d.open, f)
	d.mu.Unlock()
}
