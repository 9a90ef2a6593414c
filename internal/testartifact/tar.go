// Package testartifact builds hostile eStargz artifacts for tests: tar
// streams with any names, links and types; eStargz blobs whose footer or
// table of contents lie; and registry or OCI-layout pushes whose manifest
// lies about the layer.
//
// Nothing here validates anything: every helper writes exactly what it is
// given, which is the point.
package testartifact

import (
	"archive/tar"
	"bytes"
	"fmt"
	"slices"
	"strconv"
)

// Entry writes one entry of a tar stream.
type Entry func(*tar.Writer) error

// File is a regular file with the given content and mode (permission and
// setuid/setgid/sticky bits, as in a tar header).
func File(name, content string, mode int64) Entry {
	return Raw(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(content))}, []byte(content))
}

// Dir is a directory with mode 0755.
func Dir(name string) Entry {
	return Raw(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755}, nil)
}

// DirMode is a directory with the given mode.
func DirMode(name string, mode int64) Entry {
	return Raw(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode}, nil)
}

// Symlink is a symbolic link name -> target.
func Symlink(name, target string) Entry {
	return Raw(&tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777}, nil)
}

// Hardlink is a hard link name to target.
func Hardlink(name, target string) Entry {
	return Raw(&tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: target, Mode: 0o644}, nil)
}

// Fifo is a named pipe.
func Fifo(name string) Entry {
	return Raw(&tar.Header{Typeflag: tar.TypeFifo, Name: name, Mode: 0o644}, nil)
}

// CharDev is a character device (1, 3: /dev/null on Linux).
func CharDev(name string) Entry {
	return Raw(&tar.Header{Typeflag: tar.TypeChar, Name: name, Mode: 0o666, Devmajor: 1, Devminor: 3}, nil)
}

// BlockDev is a block device (8, 0: /dev/sda on Linux).
func BlockDev(name string) Entry {
	return Raw(&tar.Header{Typeflag: tar.TypeBlock, Name: name, Mode: 0o660, Devmajor: 8, Devminor: 0}, nil)
}

// Raw writes h and then content, as they are. h.Size should be
// len(content) for a regular file.
func Raw(h *tar.Header, content []byte) Entry {
	return func(tw *tar.Writer) error {
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("tar header %q: %w", h.Name, err)
		}
		if len(content) > 0 {
			if _, err := tw.Write(content); err != nil {
				return fmt.Errorf("tar content %q: %w", h.Name, err)
			}
		}
		return nil
	}
}

// Tar returns the tar stream of the entries, closed. It panics if
// archive/tar refuses an entry (a test helper has no better recourse).
func Tar(entries ...Entry) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		if err := e(tw); err != nil {
			panic("testartifact: " + err.Error())
		}
	}
	if err := tw.Close(); err != nil {
		panic("testartifact: " + err.Error())
	}
	return buf.Bytes()
}

// PAXHeader returns a raw PAX extended header ('x') carrying records, for
// the entry that follows it. archive/tar refuses to write (or read) one
// over 1 MiB; this writes any size. Add it to a Builder with AddRaw.
func PAXHeader(records map[string]string) []byte {
	keys := make([]string, 0, len(records))
	for k := range records {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var data bytes.Buffer
	for _, k := range keys {
		// Each record is "<len> <key>=<value>\n", where len counts the
		// whole record, its own digits included.
		rest := len(k) + len(records[k]) + 3 // space, '=', newline
		n := rest + len(strconv.Itoa(rest))
		if len(strconv.Itoa(n)) != len(strconv.Itoa(rest)) {
			n++
		}
		fmt.Fprintf(&data, "%d %s=%s\n", n, k, records[k])
	}
	var hdr bytes.Buffer
	tw := tar.NewWriter(&hdr)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "PaxHeaders.0/entry", Mode: 0o644, Size: int64(data.Len()), Format: tar.FormatUSTAR}); err != nil {
		panic("testartifact: " + err.Error())
	}
	blk := bytes.Clone(hdr.Bytes()[:512])
	blk[156] = tar.TypeXHeader
	copy(blk[148:156], "        ")
	sum := 0
	for _, c := range blk {
		sum += int(c)
	}
	copy(blk[148:156], fmt.Sprintf("%06o\x00 ", sum))
	out := append(blk, data.Bytes()...)
	if pad := len(out) % 512; pad != 0 {
		out = append(out, make([]byte, 512-pad)...)
	}
	return out
}
