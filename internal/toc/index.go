package toc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"math"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/containerd/stargz-snapshotter/estargz"
	digest "github.com/opencontainers/go-digest"

	"github.com/blobber-dev/blobber/internal/compression"
)

// EntryType is the kind of an entry. It is a byte rather than the TOC's
// string so that an index of many entries keeps one byte per entry for it;
// String gives the TOC's name.
type EntryType uint8

// Entry types; String spells each as the TOC does.
const (
	TypeDir EntryType = iota + 1
	TypeReg
	TypeSymlink
	TypeHardlink
	TypeChar
	TypeBlock
	TypeFifo
)

// typeChunk is the TOC's type of an entry that continues a file.
const typeChunk = "chunk"

var typeNames = [...]string{TypeDir: "dir", TypeReg: "reg", TypeSymlink: "symlink", TypeHardlink: "hardlink", TypeChar: "char", TypeBlock: "block", TypeFifo: "fifo"}

// String is the type's name in the TOC.
func (t EntryType) String() string {
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	return fmt.Sprintf("EntryType(%d)", uint8(t))
}

// MarshalText writes the TOC's name, so that an entry encoded as JSON
// reads as it did when the type was a string.
func (t EntryType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// parseType returns the type the TOC calls name.
func parseType(name string) (EntryType, bool) {
	for t, n := range typeNames {
		if n != "" && n == name {
			return EntryType(t), true
		}
	}
	return 0, false
}

// Entry is one validated file, directory or link of the tree. An index
// holds one Entry per file, so its fields are kept small (see
// entry_storage.go): the small ones share words, the modification time is
// stored as one integer (see ModTime) rather than as a time.Time with its
// location pointer, a file's chunks lie in blocks shared by the index, and
// what only directories and links have is kept apart (Children, LinkName).
type Entry struct {
	Name     string // clean slash path relative to the root; "." for the root
	Size     int64
	mtime    int64       // see ModTime
	Mode     fs.FileMode // permission and setuid/setgid/sticky bits
	Type     EntryType
	implicit bool // a parent the TOC did not list
	added    bool // made as a parent the TOC had not listed yet (see duplicate)
	flags    entryFlags
	// data is, for a regular file, its *chunkRecord (flagOneChunk) or its
	// *chunkRun; for other entries their *entryMore. One pointer serves
	// all, as no entry has two.
	data unsafe.Pointer
}

// entryFlags are an Entry's bits of how it stores what it holds.
type entryFlags uint8

const (
	flagOneChunk  entryFlags = 1 << iota // data is a *chunkRecord (see chunk_storage.go)
	flagTimeNanos                        // mtime is in nanoseconds (see ModTime)
)

// zeroUnix is the Unix time of the zero time.Time.
const zeroUnix = -62135596800

// ModTime is the entry's modification time, in UTC; the zero time when
// the TOC gives none. A time in whole seconds, as eStargz writers record
// it, is kept as seconds since the zero time.Time (so that the zero Entry
// has no time); one with a fraction as nanoseconds since the Unix epoch,
// or, outside the centuries those reach, in whole seconds.
func (e *Entry) ModTime() time.Time {
	if e.flags&flagTimeNanos != 0 {
		return time.Unix(0, e.mtime).UTC()
	}
	return time.Unix(e.mtime+zeroUnix, 0).UTC()
}

func (e *Entry) setModTime(t time.Time) {
	e.flags &^= flagTimeNanos
	if ns := t.UnixNano(); t.Nanosecond() != 0 && time.Unix(0, ns).Equal(t) {
		e.mtime, e.flags = ns, e.flags|flagTimeNanos
		return
	}
	e.mtime = t.Unix() - zeroUnix
}

// copyModeAndTime gives e the mode and modification time of src.
func (e *Entry) copyModeAndTime(src *Entry) {
	e.Mode, e.mtime = src.Mode, src.mtime
	e.flags = e.flags&^flagTimeNanos | src.flags&flagTimeNanos
}

// sameModeAndTime tells whether e and o have one mode and time.
func (e *Entry) sameModeAndTime(o *Entry) bool {
	return e.Mode == o.Mode && e.mtime == o.mtime && e.flags&flagTimeNanos == o.flags&flagTimeNanos
}

func (e *Entry) oneChunk() bool { return e.flags&flagOneChunk != 0 }

// Chunk locates one verified piece of a file in the blob. It holds no
// pointers, so that the index of a tree of many files costs the garbage
// collector little, and where its compressed bytes end is kept as a 32-bit
// length (see End).
type Chunk struct {
	Offset      int64 // start of the compressed member
	InnerOffset int64 // where the chunk starts in the decompressed member
	FileOffset  int64
	Size        int64
	SHA256      [sha256.Size]byte // of the decompressed chunk
	// Layer is which of the artifact's layers holds the chunk (see
	// Merge); Offset and End are offsets in that layer's blob.
	Layer int32
	span  uint32 // End - Offset, at most maxSpan
}

// maxSpan is the most a chunk's span keeps: more than Need ever reads from
// a chunk, whose inflated bytes MaxChunkBytes bounds, so a longer run of
// bytes before the next member (junk, or a hole before the TOC) changes no
// read.
const maxSpan = math.MaxUint32

// End is where the compressed bytes that hold the chunk end: at the next
// member, or sooner when that is further than any read of the chunk goes.
func (c Chunk) End() int64 { return c.Offset + int64(c.span) }

// SetEnd records where the chunk's compressed bytes end, for chunks made
// outside a TOC (tests of their readers).
func (c *Chunk) SetEnd(end int64) { c.span = uint32(min(max(end-c.Offset, 0), maxSpan)) }

// Digest is the chunk's digest as the TOC writes it.
func (c Chunk) Digest() digest.Digest { return digest.NewDigestFromBytes(digest.SHA256, c.SHA256[:]) }

// Index is a verified TOC.
type Index struct {
	Compression compression.Compression
	BlobSize    int64
	PayloadEnd  int64 // file data lies before this offset
	Root        *Entry
	Files       int   // entries other than the root
	TotalBytes  int64 // sum of regular file sizes
	maxEntries  int
	// chunkEntries counts the TOC's chunk entries, which cost memory as
	// entries do and count against the same limit.
	chunkEntries int
	// fileDigests are the whole-file digests the TOC gives files of
	// several chunks.
	fileDigests map[*Entry][sha256.Size]byte
	heapBytes   int64 // see HeapBytes
	// Layers describes, in a merged index (see Merge), each layer it was
	// merged from; BlobSize is then their sum, PayloadEnd 0. It is nil
	// in one layer's index.
	Layers []LayerInfo
}

// FileDigest is the digest of the regular file e's content as the TOC
// records it: for a file of one chunk, that chunk's digest (which every
// read checks); for a file of several, the TOC's "digest" field, which
// the TOC's own digest vouches for as the publisher's claim but no read
// checks whole. ok is false when the TOC gives none.
func (ix *Index) FileDigest(e *Entry) (d digest.Digest, ok bool) {
	switch {
	case e.Type != TypeReg:
		return "", false
	case e.Size == 0:
		return digest.SHA256.FromBytes(nil), true
	case e.NumChunks() == 1 && e.Chunk(0).Size == e.Size:
		return e.Chunk(0).Digest(), true
	}
	sum, ok := ix.fileDigests[e]
	if !ok {
		return "", false
	}
	return digest.NewDigestFromBytes(digest.SHA256, sum[:]), true
}

// overEntryLimit fails with ErrLimit once the entries so far, chunk
// entries included, are more than the limit allows.
func (ix *Index) overEntryLimit() error {
	if ix.Files+ix.chunkEntries > ix.maxEntries {
		return fmt.Errorf("%w: more than %d entries (files, directories, links and chunks)", ErrLimit, ix.maxEntries)
	}
	return nil
}

// Lookup returns the entry called name, without following symlinks. It
// descends the sorted directories, so that a finished index keeps no map
// of all its names.
func (ix *Index) Lookup(name string) (*Entry, bool) {
	e := ix.Root
	if name == "." {
		return e, true
	}
	for i := 0; i <= len(name); i++ {
		if i < len(name) && name[i] != '/' {
			continue
		}
		prefix := name[:i]
		children := e.Children()
		j, found := slices.BinarySearchFunc(children, prefix, func(c *Entry, p string) int { return strings.Compare(c.Name, p) })
		if !found {
			return nil, false
		}
		e = children[j]
	}
	return e, true
}

// Walk visits every entry but the root in lexical order, parents first.
func (ix *Index) Walk(fn func(*Entry) error) error {
	var walk func(*Entry) error
	walk = func(e *Entry) error {
		for _, c := range e.Children() {
			if err := fn(c); err != nil {
				return err
			}
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(ix.Root)
}

// Read fetches and verifies the TOC of the blob r of blobSize bytes, whose
// TOC JSON must have the digest tocDigest.
func Read(ctx context.Context, r io.ReaderAt, blobSize int64, c compression.Compression, tocDigest digest.Digest, limits Limits) (*Index, error) {
	if err := tocDigest.Validate(); err != nil {
		return nil, fmt.Errorf("%w: TOC digest %q: %v", ErrNotEStargz, tocDigest, err)
	}
	limits = limits.orDefault()
	tailStart := max(0, blobSize-TailSize)
	tail := make([]byte, blobSize-tailStart)
	if _, err := r.ReadAt(tail, tailStart); err != nil && err != io.EOF {
		return nil, fmt.Errorf("reading footer: %w", err)
	}
	l, err := parseFooter(c, tail, blobSize)
	if err != nil {
		return nil, err
	}
	if l.tocSize > limits.MaxTOCBytes {
		return nil, fmt.Errorf("%w: the compressed TOC is %d bytes, more than the %d allowed", ErrLimit, l.tocSize, limits.MaxTOCBytes)
	}
	if l.tocJSON > limits.MaxTOCBytes {
		return nil, errTOCTooLarge(l.tocJSON, limits.MaxTOCBytes)
	}
	var compressed io.Reader
	var pieces *pieceReader
	if l.tocOffset >= tailStart {
		compressed = bytes.NewReader(tail[l.tocOffset-tailStart : l.tocOffset-tailStart+l.tocSize])
	} else {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		pieces = newPieceReader(ctx, r, l.tocOffset, l.tocSize)
		compressed = pieces
	}
	b := newBuilder(c, blobSize, l.payloadEnd, limits)
	tocLimits := limits
	if l.tocJSON > 0 {
		// The JSON may be no longer than the footer says, and its zstd
		// window no larger.
		tocLimits.MaxTOCBytes = l.tocJSON
	}
	version, err := readTOCFrom(c, compressed, tocDigest, tocLimits, b.add)
	if pieces != nil && pieces.err != nil {
		return nil, fmt.Errorf("reading TOC: %w", pieces.err)
	}
	if err != nil {
		return nil, err
	}
	return b.finish(version)
}

// newIndex validates a whole decoded TOC.
func newIndex(jtoc *estargz.JTOC, c compression.Compression, blobSize, payloadEnd int64, limits Limits) (*Index, error) {
	b := newBuilder(c, blobSize, payloadEnd, limits)
	for _, te := range jtoc.Entries {
		if err := b.add(te); err != nil {
			return nil, err
		}
	}
	return b.finish(jtoc.Version)
}
