package extract

import "testing"

// IsTempName knows every name tempName makes, and nothing a user would
// name a file.
func TestIsTempName(t *testing.T) {
	for _, name := range []string{"a.txt", "dir/sub/file", "x"} {
		tmp := tempName(name)
		_, base := splitName(tmp)
		if !IsTempName(base) {
			t.Errorf("IsTempName(%q) = false for tempName(%q)", base, name)
		}
	}
	for _, base := range []string{"a.txt", ".a.txt", ".blobber-0123456789abcdef", ".a.blobber-0123", ".a.blobber-0123456789ABCDEF", "a.blobber-0123456789abcdef"} {
		if IsTempName(base) {
			t.Errorf("IsTempName(%q) = true", base)
		}
	}
}
