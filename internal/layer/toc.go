package layer

import (
	"archive/tar"
	"bytes"
	stdgzip "compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/containerd/stargz-snapshotter/estargz"
	"github.com/containerd/stargz-snapshotter/estargz/zstdchunked"
	"github.com/klauspost/compress/zstd"
	digest "github.com/opencontainers/go-digest"
)

// The TOC is the one estargz's WriteTOCAndFooter writes, byte for byte, but
// it is never held whole: WriteTOCAndFooter takes the complete JTOC and
// marshals it at once, which for a tree of a few hundred thousand files is
// every entry plus a JSON document of a hundred megabytes. Here each entry is
// rendered as soon as it is final, in blob order, into a spool (memory, then
// a temporary file), and the TOC member and footer are written from the
// spool at the end, when the size of the JSON is known.

// json.MarshalIndent(&estargz.JTOC{Version: 1, Entries: ...}, "", "\t")
// renders the entries between tocHead and tocTail, the first after
// tocFirst and the others after tocNext, each as
// json.MarshalIndent(entry, "\t\t", "\t") would; a TOC without entries
// (a nil slice) is tocHead + tocNull.
const (
	tocHead  = "{\n\t\"version\": 1,\n\t\"entries\": "
	tocFirst = "[\n\t\t"
	tocNext  = ",\n\t\t"
	tocTail  = "\n\t]\n}"
	tocNull  = "null\n}"
)

// digestPlaceholder stands for the digest of a file in several chunks, which
// is rendered before its last chunk is read; it is as long as a real one, so
// the real one is written over it.
var (
	digestPlaceholder = digest.NewDigestFromEncoded(digest.SHA256, strings.Repeat("0", 64)).String()
	// digestField finds the placeholder in a rendered entry; a name cannot
	// hold it, since JSON escapes quotes, tabs and newlines in strings.
	digestField = []byte("\n\t\t\t\"digest\": \"" + digestPlaceholder + "\"")
)

// tocWriter renders the TOC's entries one by one into a spool.
type tocWriter struct {
	json     *spool
	rendered bytes.Buffer // by enc, for an entry appendPlainEntry leaves to it
	enc      *json.Encoder
	line     []byte // by appendPlainEntry
	entries  int
	// placeholders are the spool offsets of the digests still to be
	// written, oldest first.
	placeholders []int64
}

func newTOCWriter(tempDir string) *tocWriter {
	t := &tocWriter{json: &spool{dir: tempDir}}
	t.json.buf = append(t.json.buf, tocHead...) // no file yet: it goes with the first entry
	t.enc = json.NewEncoder(&t.rendered)
	t.enc.SetIndent("\t\t", "\t")
	return t
}

// add renders an entry whose fields are all final but for a placeholder
// digest; the entry is not used after.
func (t *tocWriter) add(e *estargz.TOCEntry) error {
	sep := tocNext
	if t.entries == 0 {
		sep = tocFirst
	}
	b, ok := appendPlainEntry(append(t.line[:0], sep...), e)
	if !ok {
		t.rendered.Reset()
		t.rendered.WriteString(sep)
		if err := t.enc.Encode(e); err != nil {
			return fmt.Errorf("rendering the TOC entry of %s: %w", e.Name, err)
		}
		// Encode ends the value with a newline; MarshalIndent does not.
		b = t.rendered.Bytes()
		b = b[:len(b)-1]
	} else {
		t.line = b
	}
	if e.Digest == digestPlaceholder {
		i := bytes.LastIndex(b, digestField)
		if i < 0 {
			return fmt.Errorf("rendering the TOC entry of %s: digest placeholder not found", e.Name)
		}
		at := t.json.size() + int64(i+len(digestField)-len(digestPlaceholder)-1)
		t.placeholders = append(t.placeholders, at)
	}
	t.entries++
	_, err := t.json.Write(b)
	return err
}

// setDigest writes the digest of the oldest file rendered with a placeholder.
func (t *tocWriter) setDigest(d string) error {
	if len(t.placeholders) == 0 || len(d) != len(digestPlaceholder) {
		return fmt.Errorf("TOC: unexpected file digest %q", d)
	}
	at := t.placeholders[0]
	t.placeholders = append(t.placeholders[:0], t.placeholders[1:]...)
	return t.json.writeAt([]byte(d), at)
}

// finish ends the JSON and writes the TOC and the footer to w, which is at
// offset off of the blob, and returns the digest of the JSON.
func (t *tocWriter) finish(w io.Writer, off int64, c codec, diffHash io.Writer) (digest.Digest, error) {
	if len(t.placeholders) > 0 {
		return "", fmt.Errorf("TOC: %d file digests missing", len(t.placeholders))
	}
	tail := tocTail
	if t.entries == 0 {
		tail = tocNull
	}
	if _, err := io.WriteString(t.json, tail); err != nil {
		return "", err
	}
	h := sha256.New()
	if err := c.writeTOC(w, off, io.TeeReader(t.json.reader(), h), t.json.size(), diffHash); err != nil {
		return "", err
	}
	return digest.NewDigest(digest.SHA256, h), nil
}

func (t *tocWriter) close() error { return t.json.close() }

// writeGzipTOC is estargz's (*GzipCompressor).WriteTOCAndFooter with the
// JSON read from r: a tar header for estargz.TOCTarName and the JSON, in a
// gzip member of its own made by compress/gzip at its default level (the
// builder used estargz.NewGzipCompressorWithLevel(gzip.DefaultCompression)),
// then the footer. compress/flate's output does not depend on how its input
// is split into writes.
func writeGzipTOC(w io.Writer, off int64, r io.Reader, size int64, diffHash io.Writer) error {
	gz, err := stdgzip.NewWriterLevel(w, stdgzip.DefaultCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(io.MultiWriter(gz, diffHash))
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: estargz.TOCTarName, Size: size}); err != nil {
		return err
	}
	if _, err := io.Copy(tw, r); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := gz.Close(); err != nil {
		return err
	}
	_, err = w.Write(gzipFooter(off))
	return err
}

// gzipFooter is estargz's gzipFooterBytes, which is not exported: the TOC's
// offset in the extra field of an empty gzip member.
func gzipFooter(tocOff int64) []byte {
	subfield := fmt.Sprintf("%016xSTARGZ", tocOff)
	extra := []byte{'S', 'G', 0, 0}
	binary.LittleEndian.PutUint16(extra[2:], uint16(len(subfield)))
	return estargz.CreateGzipFooter(append(extra, subfield...))
}

// writeZstdTOC is zstdchunked's (*Compressor).WriteTOCAndFooter with the
// JSON read from r: the JSON compressed by a zstd stream encoder with the
// same options, in a skippable frame, then the footer in another. The frame
// starts with the compressed size, so the compressed TOC is spooled first.
func writeZstdTOC(w io.Writer, off int64, r io.Reader, size int64, level zstd.EncoderLevel, tempDir string) (err error) {
	compressed := &spool{dir: tempDir}
	defer func() { err = errors.Join(err, compressed.close()) }()
	enc, err := zstd.NewWriter(compressed, zstd.WithEncoderLevel(level))
	if err != nil {
		return err
	}
	// Through Write, as WriteTOCAndFooter does, not the encoder's ReadFrom.
	if _, err := io.Copy(struct{ io.Writer }{enc}, r); err != nil {
		enc.Close()
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	if _, err := w.Write(skippableFrameHeader(compressed.size())); err != nil {
		return err
	}
	if _, err := io.Copy(w, compressed.reader()); err != nil {
		return err
	}
	// zstdchunked's zstdFooterBytes, which is not exported. The TOC starts
	// after the 8 bytes of the skippable frame's header.
	footer := make([]byte, zstdchunked.FooterSize)
	binary.LittleEndian.PutUint64(footer, uint64(off)+8)
	binary.LittleEndian.PutUint64(footer[8:], uint64(compressed.size()))
	binary.LittleEndian.PutUint64(footer[16:], uint64(size))
	binary.LittleEndian.PutUint64(footer[24:], 1) // manifestTypeCRFS
	copy(footer[32:], "GnUlInUx")                 // zstdChunkedFrameMagic
	if _, err := w.Write(skippableFrameHeader(int64(len(footer)))); err != nil {
		return err
	}
	_, err = w.Write(footer)
	return err
}

// skippableFrameHeader is the start of zstdchunked's
// appendSkippableFrameMagic: a zstd skippable frame of n bytes.
func skippableFrameHeader(n int64) []byte {
	h := []byte{0x50, 0x2a, 0x4d, 0x18, 0, 0, 0, 0}
	binary.LittleEndian.PutUint32(h[4:], uint32(n))
	return h
}
