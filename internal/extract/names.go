package extract

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/blobber-dev/blobber/internal/errdef"
)

// ErrPathTraversal reports a name, symlink target or hard-link target that
// would reach outside the target directory, or that cannot be proven not to.
var ErrPathTraversal = errdef.ErrPathTraversal

// ErrExists reports that the artifact names a path that already exists in a
// way this extraction may not replace. errors.Is(err, fs.ErrExist) holds for
// it, so callers that only know the standard library still recognise it.
var ErrExists = errdef.ErrExists

func traversalErr(name, why string) error {
	return fmt.Errorf("%w: %q: %s", ErrPathTraversal, name, why)
}

func existsErr(name, why string) error {
	return fmt.Errorf("%w: %q: %s", ErrExists, name, why)
}

// twiceErr is err from creating name in the staging directory, where
// everything is new: a name already there is in the artifact twice.
func twiceErr(name string, err error) error {
	if errors.Is(err, fs.ErrExist) {
		return existsErr(name, "is in the artifact twice")
	}
	return err
}

// CleanName turns a slash-separated entry name from a tar header or TOC into
// the clean relative path the rest of the package uses. A leading "./",
// repeated or trailing slashes and "." components are normalised away; "."
// (the target directory itself) is returned as ".". Empty names, absolute
// names, NUL bytes and any ".." component are rejected with an error wrapping
// ErrPathTraversal: ".." is refused even where it would stay inside, because
// an artifact has no honest reason to use it. Backslashes are ordinary bytes.
func CleanName(name string) (string, error) {
	switch {
	case name == "":
		return "", traversalErr(name, "empty name")
	case strings.IndexByte(name, 0) >= 0:
		return "", traversalErr(name, "contains a NUL byte")
	case strings.HasPrefix(name, "/"):
		return "", traversalErr(name, "absolute path")
	}
	for c := range strings.SplitSeq(name, "/") {
		if c == ".." {
			return "", traversalErr(name, `contains a ".." component`)
		}
	}
	return path.Clean(name), nil
}

// sanitizeMode is the mode an entry gets on disk (see DiskPerm).
func sanitizeMode(m fs.FileMode) fs.FileMode { return DiskPerm(m) }

// splitName returns the parent directory (or ".") and base of a clean name.
func splitName(name string) (dir, base string) {
	i := strings.LastIndexByte(name, '/')
	if i < 0 {
		return ".", name
	}
	return name[:i], name[i+1:]
}

// depth orders names so that children are handled before their parents.
func depth(name string) int { return strings.Count(name, "/") }

// maxTempBase keeps temporary names under NAME_MAX even for long bases.
const maxTempBase = 100

// tempName returns a fresh hidden name beside name. Creation with O_EXCL (or
// EEXIST from link/symlink) and a retry make collisions harmless.
func tempName(name string) string {
	dir, base := splitName(name)
	if len(base) > maxTempBase {
		base = base[:maxTempBase]
	}
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails since Go 1.24
	t := "." + base + ".blobber-" + hex.EncodeToString(b[:])
	if dir == "." {
		return t
	}
	return dir + "/" + t
}

// tempAttempts bounds retries of temporary-name collisions, which with 64
// random bits only a hostile local process could cause.
const tempAttempts = 8

// withTempName calls create with fresh temporary names beside name until one
// does not collide, returning the name it used.
func withTempName(name string, create func(tmp string) error) (string, error) {
	var err error
	for range tempAttempts {
		tmp := tempName(name)
		if err = create(tmp); err == nil {
			return tmp, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
	}
	return "", err
}
