//go:build !unix

package cache

import "io/fs"

// On Windows (and other systems without Unix owners), who may write a directory or a file is decided by its ACL,
// which this package does not inspect: the checks that remain are the
// portable ones every platform makes (a directory of the cache is a real
// directory, not a link; an entry is a regular file; data files are
// created new, with O_EXCL). A cache directory under the user's profile
// (the default) is private by its inherited ACL.

func checkOwnDir(name string, fi fs.FileInfo) error { return nil }

func checkOwnFile(name string, fi fs.FileInfo) error { return nil }
