package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// archiveFile is one file of a release archive.
type archiveFile struct {
	name string
	mode os.FileMode
	data []byte
}

// checksum is one line of SHA256SUMS.
type checksum struct {
	name string // the archive's base name
	hex  string
}

// writeArchive packs files with pack into path and returns its checksum.
func writeArchive(path string, files []archiveFile, mtime time.Time, pack func(io.Writer, []archiveFile, time.Time) error) (checksum, error) {
	var buf bytes.Buffer
	if err := pack(&buf, files, mtime); err != nil {
		return checksum{}, fmt.Errorf("%s: %w", path, err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return checksum{}, err
	}
	sum := sha256.Sum256(buf.Bytes())
	return checksum{name: filepath.Base(path), hex: hex.EncodeToString(sum[:])}, nil
}

// writeTarGz writes a gzip-compressed tar whose entries depend only on the
// files and mtime: numeric owner 0, no user or group names, no gzip header
// name or time.
func writeTarGz(w io.Writer, files []archiveFile, mtime time.Time) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	for _, f := range files {
		hdr := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     f.name,
			Mode:     int64(f.mode.Perm()),
			Size:     int64(len(f.data)),
			ModTime:  mtime,
			Format:   tar.FormatPAX,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(f.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

// writeZip writes a zip whose entries carry mtime and the files' modes.
func writeZip(w io.Writer, files []archiveFile, mtime time.Time) error {
	zw := zip.NewWriter(w)
	for _, f := range files {
		hdr := &zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: mtime}
		hdr.SetMode(f.mode.Perm())
		fw, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		if _, err := fw.Write(f.data); err != nil {
			return err
		}
	}
	return zw.Close()
}

// writeSums writes SHA256SUMS in the format `sha256sum -c` reads.
func writeSums(path string, sums []checksum) error {
	sort.Slice(sums, func(i, j int) bool { return sums[i].name < sums[j].name })
	var b bytes.Buffer
	for _, s := range sums {
		fmt.Fprintf(&b, "%s  %s\n", s.hex, s.name)
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}
