//go:build unix

package extract

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A file staged for a new tree is created with its final permissions, so
// its commit sets none (one fchmod less per file), is written through its
// bare descriptor (no fcntl of os.NewFile), and it ends with exactly
// the permissions DiskPerm gives, under any umask, read-only and setuid
// modes included.
func TestStagedFilesAreCreatedWithTheirPermissions(t *testing.T) {
	modes := []fs.FileMode{0o644, 0o755, 0o664, 0o444, 0o600, 0, 0o777, fs.ModeSetuid | 0o755}
	for _, umask := range []fs.FileMode{0o022, 0o077, 0o002} {
		withUmask(t, umask)
		d, dir := open(t, Options{})
		if d.staging == "" {
			t.Fatal("a pull into a new directory is not staged")
		}
		for i, m := range modes {
			f, err := d.CreateFile(filepath.Join("sub", string(rune('a'+i))), m, 1, time.Unix(0, 0))
			if err != nil {
				t.Fatal(err)
			}
			if !f.permSet {
				t.Errorf("umask %o, mode %v: staged file created without its permissions (commit sets them)", umask, m)
			}
			if _, ok := f.f.(rawFile); !ok {
				t.Errorf("umask %o, mode %v: staged file is a %T, not its bare descriptor", umask, m, f.f)
			}
			if _, err := f.WriteAt([]byte{'x'}, 0); err != nil {
				t.Fatalf("umask %o, mode %v: %v", umask, m, err)
			}
			if err := f.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		if err := d.Commit(); err != nil {
			t.Fatal(err)
		}
		for i, m := range modes {
			fi, err := os.Stat(filepath.Join(dir, "sub", string(rune('a'+i))))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := fi.Mode(), DiskPerm(m); got != want {
				t.Errorf("umask %o, mode %v: on disk %v, want %v", umask, m, got, want)
			}
		}
	}
}
