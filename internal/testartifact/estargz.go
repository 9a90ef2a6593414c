package testartifact

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/containerd/stargz-snapshotter/estargz"
	"github.com/containerd/stargz-snapshotter/estargz/zstdchunked"
	"github.com/klauspost/compress/zstd"
	digest "github.com/opencontainers/go-digest"
)

// GzipFooterSize is the size of an eStargz gzip footer.
const GzipFooterSize = estargz.FooterSize

// ZstdFooterSize is the size of the zstd:chunked footer fields at the end
// of a blob (after an 8-byte skippable-frame header).
const ZstdFooterSize = zstdchunked.FooterSize

// Options tune EStargzWith.
type Options struct {
	// ChunkSize is the largest piece of a file in one compressed member
	// (estargz's default, 4 MiB, when 0).
	ChunkSize int
	// Zstd writes a zstd:chunked blob instead of gzip eStargz.
	Zstd bool
	// Lossless keeps the tar stream byte for byte (estargz's
	// AppendTarLossLess, as the original Blobber built its layers): its
	// end-of-archive blocks stay before the TOC.
	Lossless bool
}

// EStargz converts a tar stream into a gzip eStargz blob with estargz's own
// writer, which keeps names, link targets and types exactly as the tar has
// them. It returns the blob, the digest of its TOC JSON (the value of the
// containerd.io/snapshot/stargz/toc.digest annotation) and its diffID.
func EStargz(tarBytes []byte) (blob []byte, tocDigest, diffID digest.Digest, err error) {
	return EStargzWith(tarBytes, Options{})
}

// EStargzWith is EStargz with options.
func EStargzWith(tarBytes []byte, o Options) (blob []byte, tocDigest, diffID digest.Digest, err error) {
	var buf bytes.Buffer
	var w *estargz.Writer
	if o.Zstd {
		w = estargz.NewWriterWithCompressor(&buf, &zstdchunked.Compressor{CompressionLevel: zstd.SpeedDefault})
	} else {
		w = estargz.NewWriter(&buf)
	}
	w.ChunkSize = o.ChunkSize
	appendTar := w.AppendTar
	if o.Lossless {
		appendTar = w.AppendTarLossLess
	}
	if err := appendTar(bytes.NewReader(tarBytes)); err != nil {
		return nil, "", "", fmt.Errorf("estargz: %w", err)
	}
	tocDigest, err = w.Close()
	if err != nil {
		return nil, "", "", fmt.Errorf("estargz: %w", err)
	}
	return buf.Bytes(), tocDigest, digest.Digest(w.DiffID()), nil
}

// Gzip compresses b as one gzip member: an ordinary tar.gz layer.
func Gzip(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

// DiffID decompresses a whole gzip blob (every member) and returns the
// digest of the result.
func DiffID(blob []byte) (digest.Digest, error) {
	zr, err := gzip.NewReader(bytes.NewReader(blob))
	if err != nil {
		return "", err
	}
	h := sha256.New()
	if _, err := io.Copy(h, zr); err != nil {
		return "", err
	}
	return digest.NewDigest(digest.SHA256, h), nil
}

// GzipFooter returns the 51-byte eStargz footer pointing at tocOffset. Any
// offset is written as is: a negative one as "-" and 15 hex digits, which
// estargz's parser reads back as that negative number.
func GzipFooter(tocOffset int64) []byte {
	subfield := fmt.Sprintf("%016xSTARGZ", tocOffset)
	extra := []byte{'S', 'G', 0, 0}
	binary.LittleEndian.PutUint16(extra[2:], uint16(len(subfield)))
	extra = append(extra, subfield...)
	return estargz.CreateGzipFooter(extra)
}

// WithFooter returns a copy of a gzip eStargz blob with its footer replaced
// by one that points at tocOffset.
func WithFooter(blob []byte, tocOffset int64) []byte {
	out := bytes.Clone(blob[:len(blob)-GzipFooterSize])
	return append(out, GzipFooter(tocOffset)...)
}

// WithZstdFooter returns a copy of a zstd:chunked blob whose footer says the
// TOC frame starts at tocOffset and is tocCompressedSize bytes long,
// inflating to tocRawSize bytes.
func WithZstdFooter(blob []byte, tocOffset, tocCompressedSize, tocRawSize uint64) []byte {
	out := bytes.Clone(blob)
	f := out[len(out)-ZstdFooterSize:]
	binary.LittleEndian.PutUint64(f[0:], tocOffset)
	binary.LittleEndian.PutUint64(f[8:], tocCompressedSize)
	binary.LittleEndian.PutUint64(f[16:], tocRawSize)
	return out
}

// TOCOffset is where the footer of a gzip eStargz blob says its TOC starts.
func TOCOffset(blob []byte) (int64, error) {
	if len(blob) < GzipFooterSize {
		return 0, errors.New("blob too small for a footer")
	}
	_, off, _, err := new(estargz.GzipDecompressor).ParseFooter(blob[len(blob)-GzipFooterSize:])
	if err != nil {
		return 0, err
	}
	if off < 0 || off > int64(len(blob)-GzipFooterSize) {
		return 0, fmt.Errorf("footer points at %d, outside the blob", off)
	}
	return off, nil
}

// ReadTOC decodes the TOC of a gzip eStargz blob, without checking it.
func ReadTOC(blob []byte) (*estargz.JTOC, int64, error) {
	off, err := TOCOffset(blob)
	if err != nil {
		return nil, 0, err
	}
	rc, err := new(estargz.GzipDecompressor).DecompressTOC(bytes.NewReader(blob[off : len(blob)-GzipFooterSize]))
	if err != nil {
		return nil, 0, err
	}
	defer rc.Close()
	raw, err := io.ReadAll(rc)
	if err != nil {
		return nil, 0, err
	}
	toc := new(estargz.JTOC)
	if err := json.Unmarshal(raw, toc); err != nil {
		return nil, 0, err
	}
	return toc, off, nil
}

// RewriteTOC returns a copy of a gzip eStargz blob whose TOC is what edit
// makes of the original one; the data members stay as they are. It returns
// the digest of the new TOC JSON.
func RewriteTOC(blob []byte, edit func(*estargz.JTOC)) ([]byte, digest.Digest, error) {
	toc, _, err := ReadTOC(blob)
	if err != nil {
		return nil, "", err
	}
	edit(toc)
	raw, err := json.Marshal(toc)
	if err != nil {
		return nil, "", err
	}
	return ReplaceTOC(blob, raw)
}

// ReplaceTOC returns a copy of a gzip eStargz blob whose TOC JSON is
// tocJSON, byte for byte, and the digest of tocJSON.
func ReplaceTOC(blob []byte, tocJSON []byte) ([]byte, digest.Digest, error) {
	off, err := TOCOffset(blob)
	if err != nil {
		return nil, "", err
	}
	tail, err := TOCTail(tocJSON, off)
	if err != nil {
		return nil, "", err
	}
	return append(bytes.Clone(blob[:off]), tail...), digest.FromBytes(tocJSON), nil
}

// tocMember is the gzip member estargz writes for a TOC: a tar holding
// stargz.index.json, closed.
func tocMember(tocJSON []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: estargz.TOCTarName, Size: int64(len(tocJSON))}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(tocJSON); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Find returns the first non-chunk TOC entry called name.
func Find(toc *estargz.JTOC, name string) *estargz.TOCEntry {
	for _, e := range toc.Entries {
		if e.Name == name && e.Type != "chunk" {
			return e
		}
	}
	return nil
}

// Chunks returns the entries that hold name's data: its reg entry (when it
// has data) and its chunk entries, in TOC order.
func Chunks(toc *estargz.JTOC, name string) []*estargz.TOCEntry {
	var out []*estargz.TOCEntry
	for _, e := range toc.Entries {
		if e.Name == name && (e.Type == "chunk" || (e.Type == "reg" && e.Size > 0)) {
			out = append(out, e)
		}
	}
	return out
}

// TOCTail is what ends a gzip eStargz blob whose TOC starts at tocOffset:
// the TOC member holding tocJSON, then the footer. Put it at tocOffset to
// build a blob out of pieces (a sparse file, say).
func TOCTail(tocJSON []byte, tocOffset int64) ([]byte, error) {
	member, err := tocMember(tocJSON)
	if err != nil {
		return nil, err
	}
	return append(member, GzipFooter(tocOffset)...), nil
}
