package blobber

import (
	"io/fs"
	"path"
	"time"

	"github.com/blobber-dev/blobber/internal/toc"
)

// Open opens the named file for reading (fs.FS).
func (img *Image) Open(name string) (fs.File, error) {
	e, err := img.lookup("open", name, true)
	if err != nil {
		return nil, err
	}
	info := fileInfo{name: baseName(name), e: e}
	if e.Type == toc.TypeDir {
		return &dirFile{info: info, entries: dirEntries(e)}, nil
	}
	if e.Type != toc.TypeReg {
		return nil, &fs.PathError{Op: "open", Path: name, Err: ErrUnsupportedEntry}
	}
	return &file{img: img, info: info, e: e}, nil
}

// ReadDir lists a directory, sorted by name (fs.ReadDirFS).
func (img *Image) ReadDir(name string) ([]fs.DirEntry, error) {
	e, err := img.lookup("readdir", name, true)
	if err != nil {
		return nil, err
	}
	if e.Type != toc.TypeDir {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errNotDir}
	}
	return dirEntries(e), nil
}

// Stat describes the named file, following symlinks (fs.StatFS).
func (img *Image) Stat(name string) (fs.FileInfo, error) {
	e, err := img.lookup("stat", name, true)
	if err != nil {
		return nil, err
	}
	return fileInfo{name: baseName(name), e: e}, nil
}

// Lstat describes the named file without following a final symlink
// (fs.ReadLinkFS).
func (img *Image) Lstat(name string) (fs.FileInfo, error) {
	e, err := img.lookup("lstat", name, false)
	if err != nil {
		return nil, err
	}
	return fileInfo{name: baseName(name), e: e}, nil
}

// ReadLink returns a symlink's target as stored (fs.ReadLinkFS).
func (img *Image) ReadLink(name string) (string, error) {
	e, err := img.lookup("readlink", name, false)
	if err != nil {
		return "", err
	}
	if e.Type != toc.TypeSymlink {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	return e.LinkName(), nil
}

var errNotDir = &kindError{"not a directory", fs.ErrInvalid}

func baseName(name string) string {
	if name == "." {
		return "."
	}
	return path.Base(name)
}

func dirEntries(e *toc.Entry) []fs.DirEntry {
	out := make([]fs.DirEntry, len(e.Children()))
	for i, c := range e.Children() {
		out[i] = fs.FileInfoToDirEntry(fileInfo{name: path.Base(c.Name), e: c})
	}
	return out
}

// fileInfo describes a TOC entry under the name it was reached by.
type fileInfo struct {
	name string
	e    *toc.Entry
}

func (fi fileInfo) Name() string       { return fi.name }
func (fi fileInfo) Size() int64        { return fi.e.Size }
func (fi fileInfo) ModTime() time.Time { return fi.e.ModTime() }
func (fi fileInfo) IsDir() bool        { return fi.e.Type == toc.TypeDir }
func (fi fileInfo) Sys() any           { return nil }
func (fi fileInfo) Mode() fs.FileMode  { return fi.e.Mode | typeBits(fi.e.Type) }

func typeBits(t toc.EntryType) fs.FileMode {
	switch t {
	case toc.TypeDir:
		return fs.ModeDir
	case toc.TypeSymlink:
		return fs.ModeSymlink
	case toc.TypeChar:
		return fs.ModeDevice | fs.ModeCharDevice
	case toc.TypeBlock:
		return fs.ModeDevice
	case toc.TypeFifo:
		return fs.ModeNamedPipe
	}
	return 0
}
