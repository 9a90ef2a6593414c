package extract

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
)

// userPath makes a file system error from writing the entry name say the
// path the user knows: the target directory as they gave it, joined with
// the entry's name. The operation itself may have used the staging
// directory or a temporary name beside the entry, which mean nothing to
// the user and are gone by the time they read the message.
func (d *Dir) userPath(err error, name string) error {
	// Every write of every file defers this: the path is joined only for
	// an error, so that a tree of many small files does not pay for it.
	if err == nil || name == "" {
		return err
	}
	return withPath(err, filepath.Join(d.given, filepath.FromSlash(name)))
}

// withPath makes the file system error in err name path.
func withPath(err error, path string) error {
	var pe *fs.PathError
	if err == nil || !errors.As(err, &pe) || pe.Path == path {
		return err
	}
	return &renamed{err: err, old: pe.Path, new: path}
}

// renamed is err with one path in its message replaced: the wrappers
// above the PathError have already written its path into their messages.
type renamed struct {
	err      error
	old, new string
}

func (r *renamed) Error() string { return strings.ReplaceAll(r.err.Error(), r.old, r.new) }
func (r *renamed) Unwrap() error { return r.err }
