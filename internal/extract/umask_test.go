package extract

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// An extraction applies the process umask to every mode it sets, as tar
// does for a user other than root: files and directories the artifact
// names, and the parents it only implies, on the staged path (into an empty
// directory) and the per-file path.
func TestUmaskApplied(t *testing.T) {
	tests := []struct {
		umask fs.FileMode
		in    fs.FileMode
		want  fs.FileMode
	}{
		{0o077, 0o644, 0o600},
		{0o077, 0o755, 0o700},
		{0o077, 0o664, 0o600},
		{0o022, 0o664, 0o644},
		{0o022, 0o775, 0o755},
		{0o022, 0o600, 0o600},
		{0o027, 0o777, 0o750},
		{0o000, 0o666, 0o664}, // never world-writable
	}
	for _, staged := range []bool{true, false} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("staged=%v/umask=%03o/mode=%03o", staged, tt.umask, tt.in), func(t *testing.T) {
				withUmask(t, tt.umask)
				d, dir := open(t, Options{perFile: !staged})
				if d.Staged() != staged {
					t.Fatalf("Staged() = %v", d.Staged())
				}
				if err := write(d, "implied/f", "x", tt.in, time.Time{}); err != nil {
					t.Fatal(err)
				}
				if err := d.Mkdir("d", tt.in|fs.ModeDir, time.Time{}); err != nil {
					t.Fatal(err)
				}
				if err := d.Commit(); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = os.Chmod(filepath.Join(dir, "d"), 0o700) })
				for name, want := range map[string]fs.FileMode{
					"implied/f": tt.want,
					"d":         fs.ModeDir | tt.want,
					"implied":   fs.ModeDir | 0o755&^(tt.umask|0o002),
				} {
					fi, err := os.Lstat(filepath.Join(dir, name))
					if err != nil {
						t.Fatal(err)
					}
					if fi.Mode() != want {
						t.Errorf("%s: mode %v, want %v", name, fi.Mode(), want)
					}
				}
			})
		}
	}
}

// DiskPerm is the one policy, which cp applies too.
func TestDiskPerm(t *testing.T) {
	withUmask(t, 0o077)
	if got := DiskPerm(0o4755); got != 0o700 {
		t.Errorf("DiskPerm(04755) under umask 077 = %v, want 0700", got)
	}
}
