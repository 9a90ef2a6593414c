package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var testFiles = []archiveFile{
	{name: "blobber", mode: 0o755, data: []byte("binary")},
	{name: "README.md", mode: 0o644, data: []byte("# readme\n")},
}

var commitTime = time.Date(2026, 12, 6, 4, 0, 0, 0, time.UTC)

// Two packings of the same files, at different wall-clock moments and in
// different directories, give the same bytes.
func TestArchivesAreReproducible(t *testing.T) {
	for _, pack := range []struct {
		name string
		fn   func(io.Writer, []archiveFile, time.Time) error
	}{{"a.tar.gz", writeTarGz}, {"a.zip", writeZip}} {
		s1, err := writeArchive(filepath.Join(t.TempDir(), pack.name), testFiles, commitTime, pack.fn)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(1100 * time.Millisecond) // a packer that recorded the clock would now differ
		s2, err := writeArchive(filepath.Join(t.TempDir(), pack.name), testFiles, commitTime, pack.fn)
		if err != nil {
			t.Fatal(err)
		}
		if s1 != s2 {
			t.Errorf("%s: two packings differ: %s, %s", pack.name, s1.hex, s2.hex)
		}
	}
}

func TestTarGzEntries(t *testing.T) {
	var buf bytes.Buffer
	if err := writeTarGz(&buf, testFiles, commitTime); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if zr.Name != "" || !zr.ModTime.IsZero() {
		t.Errorf("gzip header records name %q, time %v", zr.Name, zr.ModTime)
	}
	tr := tar.NewReader(zr)
	for _, want := range testFiles {
		hdr, err := tr.Next()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		if hdr.Name != want.name || os.FileMode(hdr.Mode) != want.mode || !hdr.ModTime.Equal(commitTime) ||
			hdr.Uid != 0 || hdr.Gid != 0 || hdr.Uname != "" || !bytes.Equal(data, want.data) {
			t.Errorf("entry %q mode %o time %v uid %d %q: want %q mode %o time %v, owner 0",
				hdr.Name, hdr.Mode, hdr.ModTime, hdr.Uid, hdr.Uname, want.name, want.mode, commitTime)
		}
	}
	if _, err := tr.Next(); err != io.EOF {
		t.Errorf("after the files: %v, want EOF", err)
	}
}

func TestZipEntries(t *testing.T) {
	var buf bytes.Buffer
	if err := writeZip(&buf, testFiles, commitTime); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != len(testFiles) {
		t.Fatalf("%d entries, want %d", len(zr.File), len(testFiles))
	}
	for i, f := range zr.File {
		want := testFiles[i]
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		if f.Name != want.name || f.Mode().Perm() != want.mode || !f.Modified.Equal(commitTime) || !bytes.Equal(data, want.data) {
			t.Errorf("entry %q mode %v time %v: want %q mode %v time %v", f.Name, f.Mode(), f.Modified, want.name, want.mode, commitTime)
		}
	}
}

// SHA256SUMS names each archive once, sorted, with its digest, in the
// format sha256sum -c reads.
func TestSums(t *testing.T) {
	dir := t.TempDir()
	a, err := writeArchive(filepath.Join(dir, "b.zip"), testFiles, commitTime, writeZip)
	if err != nil {
		t.Fatal(err)
	}
	b, err := writeArchive(filepath.Join(dir, "a.tar.gz"), testFiles, commitTime, writeTarGz)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeSums(filepath.Join(dir, "SHA256SUMS"), []checksum{a, b}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	want := ""
	for _, name := range []string{"a.tar.gz", "b.zip"} {
		data, _ := os.ReadFile(filepath.Join(dir, name))
		sum := sha256.Sum256(data)
		want += hex.EncodeToString(sum[:]) + "  " + name + "\n"
	}
	if string(got) != want {
		t.Errorf("SHA256SUMS:\n%s\nwant:\n%s", got, want)
	}
}
