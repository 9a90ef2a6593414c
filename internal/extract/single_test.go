package extract

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestWriteOne: one file gets the mode an extraction gives, replaces what
// was there, and a failed write leaves the old file and no temporary.
func TestWriteOne(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := WriteOne(path, 0o664, 3, func(w io.WriterAt) error {
		if _, err := w.WriteAt([]byte("ne"), 0); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("failed write: %v", err)
	}
	assertOnly(t, dir, "f", "old")

	if err := WriteOne(path, 0o4775, 3, func(w io.WriterAt) error { _, err := w.WriteAt([]byte("new"), 0); return err }); err != nil {
		t.Fatal(err)
	}
	assertOnly(t, dir, "f", "new")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fi.Mode().Perm(), DiskPerm(0o4775); got != want {
		t.Errorf("mode %v, want %v", got, want)
	}

	if err := WriteOne(path, 0o644, 2, func(w io.WriterAt) error { _, err := w.WriteAt([]byte("long"), 0); return err }); err == nil {
		t.Error("a write past the size was accepted")
	}
	assertOnly(t, dir, "f", "new")

	if err := WriteOne(filepath.Join(dir, "missing", "f"), 0o644, 0, func(io.WriterAt) error { return nil }); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("into a missing directory: %v", err)
	}
	assertOnly(t, dir, "f", "new")
}

// assertOnly checks that dir holds exactly the file name, with content.
func assertOnly(t *testing.T, dir, name, content string) {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(des) != 1 || des[0].Name() != name {
		var names []string
		for _, de := range des {
			names = append(names, de.Name())
		}
		t.Fatalf("%s holds %q, want only %s", dir, names, name)
	}
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil || string(data) != content {
		t.Fatalf("%s: %q, %v; want %q", name, data, err, content)
	}
}
