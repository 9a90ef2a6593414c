package extract

import (
	"strings"
)

// IsTempName tells whether base (a name without its directory) is one of
// the hidden names this package writes a file under before renaming it
// (tempName): what a process killed mid-write leaves behind, never a
// finished file, so that a later run may remove it.
func IsTempName(base string) bool {
	rest, ok := strings.CutPrefix(base, ".")
	if !ok {
		return false
	}
	i := strings.LastIndex(rest, ".blobber-")
	if i < 1 {
		return false
	}
	h := rest[i+len(".blobber-"):]
	if len(h) != 16 {
		return false
	}
	for _, r := range h {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}
