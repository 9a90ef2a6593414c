//go:build unix

package cache

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
)

// nobody is the user that stands for another local user in these tests.
const nobody = 65534

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("making a file another user's needs root (chown); run as root to test it")
	}
}

// A cache directory, or one inside it, that another user could write is
// refused as a whole: that user could plant tags, fingerprints and data.
func TestOpenRefusesDirectoriesOthersCanWrite(t *testing.T) {
	cases := []struct {
		name   string
		root   bool // needs root
		damage func(t *testing.T, dir string)
	}{
		{"world-writable cache directory", false, func(t *testing.T, dir string) { must(t, os.Chmod(dir, 0o777)) }},
		{"group-writable cache directory", false, func(t *testing.T, dir string) { must(t, os.Chmod(dir, 0o770)) }},
		{"world-writable tags directory", false, func(t *testing.T, dir string) { must(t, os.Chmod(filepath.Join(dir, tagsDir), 0o777)) }},
		{"world-writable blobs parent", false, func(t *testing.T, dir string) { must(t, os.Chmod(filepath.Join(dir, "blobs"), 0o777)) }},
		{"cache directory of another user", true, func(t *testing.T, dir string) { must(t, os.Chown(dir, nobody, nobody)) }},
		{"partial directory of another user", true, func(t *testing.T, dir string) {
			must(t, os.Chown(filepath.Join(dir, partialDir), nobody, nobody))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.root {
				needRoot(t)
			}
			dir := filepath.Join(t.TempDir(), "cache")
			c, err := Open(dir)
			must(t, err)
			c.Close()
			tc.damage(t, dir)
			c, err = Open(dir)
			if err == nil {
				c.Close()
				t.Fatal("an unsafe cache directory was opened")
			}
			if !errors.Is(err, ErrUnsafe) {
				t.Fatalf("error %v is not ErrUnsafe", err)
			}
		})
	}
}

// A new cache directory is private to its user.
func TestOpenMakesPrivateDirectories(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "cache")
	openCache(t, dir)
	for _, d := range append([]string{"."}, layoutDirs...) {
		fi, err := os.Stat(filepath.Join(dir, d))
		must(t, err)
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v", d, fi.Mode().Perm())
		}
	}
}

// A data file that someone else made (world-writable, or another user's)
// never receives the blob's bytes: it is removed and a new private file is
// created in its place, so a private layer cannot leak through it.
func TestPlantedDataFileIsNotWrittenTo(t *testing.T) {
	cases := []struct {
		name  string
		root  bool
		plant func(t *testing.T, p string)
	}{
		{"world-writable", false, func(t *testing.T, p string) { must(t, os.Chmod(p, 0o666)) }},
		{"world-readable", false, func(t *testing.T, p string) { must(t, os.Chmod(p, 0o644)) }},
		{"another user's", true, func(t *testing.T, p string) { must(t, os.Chown(p, nobody, nobody)) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.root {
				needRoot(t)
			}
			f := newFixture(t, 20000)
			data := f.path(partialDir + "/" + f.hex() + ".data")
			// The planted file, with the mode and owner the case gives it.
			must(t, os.WriteFile(data, nil, 0o600))
			tc.plant(t, data)
			// The planter keeps it open, to read what lands in it.
			pf, err := os.Open(data)
			must(t, err)
			defer pf.Close()
			planted, err := pf.Stat()
			must(t, err)

			b := f.blob(t)
			mustRead(t, b, f.data, 0, 5000)
			if st, err := pf.Stat(); err != nil || st.Size() != 0 {
				t.Fatalf("the blob's bytes went into the planted file (%v)", err)
			}
			fi, err := os.Stat(data)
			must(t, err)
			if os.SameFile(fi, planted) {
				t.Fatal("the planted data file is still the entry's")
			}
			if fi.Mode().Perm() != 0o600 {
				t.Fatalf("data file mode %v, want 0600", fi.Mode().Perm())
			}
			// And it was not served either: a fresh reader gets the bytes.
			mustRead(t, f.blob(t), f.data, 0, 5000)
		})
	}
}

// Records that someone else made (a tag pointing anywhere) are not read.
func TestPlantedTagIsIgnored(t *testing.T) {
	dir := t.TempDir()
	c := openCache(t, dir)
	must(t, c.PutTag("reg.example/app:v1", digest.Digest("sha256:"+strings.Repeat("a", 64)), "application/vnd.oci.image.manifest.v1+json", 10))
	if _, _, _, ok := c.Tag("reg.example/app:v1", -1); !ok {
		t.Fatal("own tag record not read")
	}
	must(t, os.Chmod(filepath.Join(dir, tagPath("reg.example/app:v1")), 0o666))
	if _, _, _, ok := c.Tag("reg.example/app:v1", -1); ok {
		t.Fatal("a world-writable tag record was trusted")
	}
}
