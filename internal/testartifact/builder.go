package testartifact

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"time"

	"github.com/containerd/stargz-snapshotter/estargz"
	digest "github.com/opencontainers/go-digest"
)

// Builder writes a gzip eStargz blob by hand, the way estargz's writer lays
// it out (each file's data starts a new gzip member; tar headers go into
// the member before), but without reading a tar back: headers archive/tar
// would refuse to read (a 2 MiB PAX record, say) go in as they are, and
// the TOC is whatever the caller leaves in TOC when calling Finish.
type Builder struct {
	// TOC is built up by Add and friends; edit it freely before Finish.
	TOC estargz.JTOC
	// ChunkSize splits file data into members of at most this many bytes
	// (4 MiB when 0).
	ChunkSize int

	blob        bytes.Buffer
	zw          *gzip.Writer // the open member, or nil
	tw          *tar.Writer
	diff        hash.Hash
	diffKnown   bool
	zeros       map[int64][]byte        // gzip members of n zeros, by n
	zeroDigests map[int64]digest.Digest // digests of n zeros, by n
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder {
	b := &Builder{TOC: estargz.JTOC{Version: 1}, diff: sha256.New(), diffKnown: true}
	b.tw = tar.NewWriter(memberWriter{b})
	return b
}

// memberWriter writes into the open member, opening one if needed, and
// hashes what it writes for the diffID.
type memberWriter struct{ b *Builder }

func (w memberWriter) Write(p []byte) (int, error) {
	w.b.diff.Write(p)
	if w.b.zw == nil {
		w.b.zw, _ = gzip.NewWriterLevel(&w.b.blob, gzip.BestSpeed)
	}
	return w.b.zw.Write(p)
}

func (b *Builder) closeMember() error {
	if b.zw == nil {
		return nil
	}
	err := b.zw.Close()
	b.zw = nil
	return err
}

// Offset closes the open member and returns the blob's length: where the
// next member will start.
func (b *Builder) Offset() (int64, error) {
	if err := b.closeMember(); err != nil {
		return 0, err
	}
	return int64(b.blob.Len()), nil
}

func (b *Builder) chunkSize() int64 {
	if b.ChunkSize <= 0 {
		return 4 << 20
	}
	return int64(b.ChunkSize)
}

func tocEntry(h *tar.Header) (*estargz.TOCEntry, error) {
	e := &estargz.TOCEntry{Name: h.Name, Mode: h.Mode, UID: h.Uid, GID: h.Gid, LinkName: h.Linkname}
	if !h.ModTime.IsZero() && h.ModTime.Unix() != 0 {
		e.ModTime3339 = h.ModTime.UTC().Format(time.RFC3339)
	}
	switch h.Typeflag {
	case tar.TypeReg:
		e.Type, e.Size = "reg", h.Size
	case tar.TypeDir:
		e.Type = "dir"
	case tar.TypeSymlink:
		e.Type = "symlink"
	case tar.TypeLink:
		e.Type = "hardlink"
	case tar.TypeChar:
		e.Type, e.DevMajor, e.DevMinor = "char", int(h.Devmajor), int(h.Devminor)
	case tar.TypeBlock:
		e.Type, e.DevMajor, e.DevMinor = "block", int(h.Devmajor), int(h.Devminor)
	case tar.TypeFifo:
		e.Type = "fifo"
	default:
		return nil, fmt.Errorf("type %q", h.Typeflag)
	}
	return e, nil
}

// Add writes h (any header archive/tar will write, PAX records included)
// and content, and appends the matching TOC entries. h.Size must be
// len(content) for a regular file.
func (b *Builder) Add(h *tar.Header, content []byte) error {
	ent, err := tocEntry(h)
	if err != nil {
		return err
	}
	if err := b.tw.WriteHeader(h); err != nil {
		return err
	}
	if ent.Type != "reg" || len(content) == 0 {
		b.TOC.Entries = append(b.TOC.Entries, ent)
		return b.tw.Flush()
	}
	ent.Digest = digest.FromBytes(content).String()
	size := int64(len(content))
	for written := int64(0); written < size; {
		n := min(b.chunkSize(), size-written)
		off, err := b.Offset()
		if err != nil {
			return err
		}
		if n == b.chunkSize() {
			ent.ChunkSize = n
		}
		piece := content[written : written+n]
		ent.Offset, ent.ChunkOffset = off, written
		ent.ChunkDigest = digest.FromBytes(piece).String()
		if _, err := b.tw.Write(piece); err != nil {
			return err
		}
		b.TOC.Entries = append(b.TOC.Entries, ent)
		written += n
		ent = &estargz.TOCEntry{Name: h.Name, Type: "chunk"}
	}
	// Padding goes into the last data member, as estargz does.
	return b.tw.Flush()
}

// AddRaw writes raw bytes into the tar stream (the open member), such as
// a PAXHeader for the entry added next. No TOC entry is made.
func (b *Builder) AddRaw(raw []byte) error {
	if err := b.tw.Flush(); err != nil {
		return err
	}
	_, err := memberWriter{b}.Write(raw)
	return err
}

// AddZeros adds a regular file of h.Size zero bytes, chunked at ChunkSize,
// without ever holding it uncompressed: every full chunk is the same gzip
// member (about 1/1000 of its size), so a few MiB of blob declare GiBs.
// The diffID Finish returns is unknown ("") afterwards.
func (b *Builder) AddZeros(h *tar.Header) error {
	ent, err := tocEntry(h)
	if err != nil {
		return err
	}
	if ent.Type != "reg" {
		return errors.New("AddZeros needs a regular file")
	}
	if err := b.tw.WriteHeader(h); err != nil {
		return err
	}
	// WriteHeader has written the header through; the tar writer now
	// waits for data it will never see, so it is replaced below.
	size := h.Size
	if size == 0 {
		b.TOC.Entries = append(b.TOC.Entries, ent)
	}
	pad := (512 - size%512) % 512
	for written := int64(0); written < size; {
		n := min(b.chunkSize(), size-written)
		off, err := b.Offset()
		if err != nil {
			return err
		}
		if n == b.chunkSize() {
			ent.ChunkSize = n
		}
		memberLen := n
		if written+n == size {
			memberLen += pad // the tar padding ends the last member
		}
		member, err := b.zerosMember(memberLen)
		if err != nil {
			return err
		}
		b.blob.Write(member)
		ent.Offset, ent.ChunkOffset = off, written
		ent.ChunkDigest = b.zerosDigest(n).String()
		b.TOC.Entries = append(b.TOC.Entries, ent)
		written += n
		ent = &estargz.TOCEntry{Name: h.Name, Type: "chunk"}
	}
	b.diffKnown = false
	// The tar writer still expects the data it never saw; start afresh.
	b.tw = tar.NewWriter(memberWriter{b})
	return nil
}

func (b *Builder) zerosMember(n int64) ([]byte, error) {
	if m, ok := b.zeros[n]; ok {
		return m, nil
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zero := make([]byte, 64<<10)
	for left := n; left > 0; {
		k := min(left, int64(len(zero)))
		if _, err := zw.Write(zero[:k]); err != nil {
			return nil, err
		}
		left -= k
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if b.zeros == nil {
		b.zeros = map[int64][]byte{}
	}
	b.zeros[n] = buf.Bytes()
	return buf.Bytes(), nil
}

func (b *Builder) zerosDigest(n int64) digest.Digest {
	if d, ok := b.zeroDigests[n]; ok {
		return d
	}
	h := sha256.New()
	zero := make([]byte, 64<<10)
	for left := n; left > 0; {
		k := min(left, int64(len(zero)))
		h.Write(zero[:k])
		left -= k
	}
	if b.zeroDigests == nil {
		b.zeroDigests = map[int64]digest.Digest{}
	}
	b.zeroDigests[n] = digest.NewDigest(digest.SHA256, h)
	return b.zeroDigests[n]
}

// Member appends an independent gzip member holding data, which no TOC
// entry points at unless the caller makes one, and returns its offset.
// data counts towards the diffID.
func (b *Builder) Member(data []byte) (int64, error) {
	off, err := b.Offset()
	if err != nil {
		return 0, err
	}
	if _, err := (memberWriter{b}).Write(data); err != nil {
		return 0, err
	}
	return off, b.closeMember()
}

// Finish closes the data, appends a TOC made from b.TOC and the footer,
// and returns the blob, the TOC digest and the diffID ("" when AddZeros
// made it unknowable cheaply).
func (b *Builder) Finish() (blob []byte, tocDigest, diffID digest.Digest, err error) {
	raw, err := json.Marshal(&b.TOC)
	if err != nil {
		return nil, "", "", err
	}
	return b.FinishRaw(raw)
}

// FinishRaw is Finish with the TOC JSON given byte for byte.
func (b *Builder) FinishRaw(tocJSON []byte) (blob []byte, tocDigest, diffID digest.Digest, err error) {
	if err := b.tw.Flush(); err != nil {
		return nil, "", "", err
	}
	off, err := b.Offset()
	if err != nil {
		return nil, "", "", err
	}
	member, err := tocMember(tocJSON)
	if err != nil {
		return nil, "", "", err
	}
	// The TOC member's tar (header, JSON, end blocks) is part of the
	// uncompressed stream, as estargz counts it.
	var tarPart bytes.Buffer
	tw := tar.NewWriter(&tarPart)
	_ = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: estargz.TOCTarName, Size: int64(len(tocJSON))})
	_, _ = tw.Write(tocJSON)
	_ = tw.Close()
	b.diff.Write(tarPart.Bytes())
	b.blob.Write(member)
	b.blob.Write(GzipFooter(off))
	if b.diffKnown {
		diffID = digest.NewDigest(digest.SHA256, b.diff)
	}
	return bytes.Clone(b.blob.Bytes()), digest.FromBytes(tocJSON), diffID, nil
}
