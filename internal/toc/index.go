package toc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/containerd/stargz-snapshotter/estargz"
	digest "github.com/opencontainers/go-digest"

	"github.com/blobber-dev/blobber/internal/compression"
)

// Entry types, as the TOC names them.
const (
	TypeDir      = "dir"
	TypeReg      = "reg"
	TypeSymlink  = "symlink"
	TypeHardlink = "hardlink"
	TypeChar     = "char"
	TypeBlock    = "block"
	TypeFifo     = "fifo"
	typeChunk    = "chunk"
)

// Entry is one validated file, directory or link of the tree.
type Entry struct {
	Name     string // clean slash path relative to the root; "." for the root
	Type     string
	Size     int64
	Mode     fs.FileMode // permission and setuid/setgid/sticky bits
	ModTime  time.Time
	LinkName string  // symlink target as stored; for a hardlink the clean name of its target
	Chunks   []Chunk // for a regular file, in file order, covering exactly Size bytes
	Children []*Entry
	implicit bool // a parent the TOC did not list
}

// Chunk locates one verified piece of a file in the blob. It holds no
// pointers, so that the index of a tree of many files costs the garbage
// collector little.
type Chunk struct {
	Offset      int64 // start of the compressed member
	End         int64 // end of the compressed bytes that hold the chunk
	InnerOffset int64 // where the chunk starts in the decompressed member
	FileOffset  int64
	Size        int64
	SHA256      [sha256.Size]byte // of the decompressed chunk
}

// Digest is the chunk's digest as the TOC writes it.
func (c Chunk) Digest() digest.Digest { return digest.NewDigestFromBytes(digest.SHA256, c.SHA256[:]) }

// Index is a verified TOC.
type Index struct {
	Compression compression.Compression
	BlobSize    int64
	PayloadEnd  int64 // file data lies before this offset
	Root        *Entry
	Files       int               // entries other than the root
	TotalBytes  int64             // sum of regular file sizes
	byName      map[string]*Entry // while the index is built; nil after
	maxEntries  int
	// chunkEntries counts the TOC's chunk entries, which cost memory as
	// entries do and count against the same limit.
	chunkEntries int
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
		j, found := slices.BinarySearchFunc(e.Children, prefix, func(c *Entry, p string) int { return strings.Compare(c.Name, p) })
		if !found {
			return nil, false
		}
		e = e.Children[j]
	}
	return e, true
}

// Walk visits every entry but the root in lexical order, parents first.
func (ix *Index) Walk(fn func(*Entry) error) error {
	var walk func(*Entry) error
	walk = func(e *Entry) error {
		for _, c := range e.Children {
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
	var compressed []byte
	if l.tocOffset >= tailStart {
		compressed = tail[l.tocOffset-tailStart : l.tocOffset-tailStart+l.tocSize]
	} else {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		compressed = make([]byte, l.tocSize)
		if _, err := r.ReadAt(compressed, l.tocOffset); err != nil && err != io.EOF {
			return nil, fmt.Errorf("reading TOC: %w", err)
		}
	}
	b := newBuilder(c, blobSize, l.payloadEnd, limits)
	tocLimits := limits
	if l.tocJSON > 0 {
		// The JSON may be no longer than the footer says, and its zstd
		// window no larger.
		tocLimits.MaxTOCBytes = l.tocJSON
	}
	version, err := readTOC(c, compressed, tocDigest, tocLimits, b.add)
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

// builder validates TOC entries one by one into an Index.
type builder struct {
	ix      *Index
	limits  Limits
	lastReg *Entry
	offsets []int64
}

func newBuilder(c compression.Compression, blobSize, payloadEnd int64, limits Limits) *builder {
	ix := &Index{
		Compression: c,
		BlobSize:    blobSize,
		PayloadEnd:  payloadEnd,
		Root:        &Entry{Name: ".", Type: TypeDir, Mode: 0o755},
		byName:      map[string]*Entry{},
	}
	ix.byName["."] = ix.Root
	ix.maxEntries = limits.MaxEntries
	return &builder{ix: ix, limits: limits}
}

func (b *builder) add(te *estargz.TOCEntry) error {
	if te == nil {
		return fmt.Errorf("%w: null TOC entry", ErrNotEStargz)
	}
	payloadEnd := b.ix.PayloadEnd
	if te.Type == typeChunk {
		if b.lastReg == nil || cleanOrEmpty(te.Name) != b.lastReg.Name {
			return fmt.Errorf("%w: chunk of %q does not follow its file", ErrNotEStargz, te.Name)
		}
		b.ix.chunkEntries++
		if err := b.ix.overEntryLimit(); err != nil {
			return err
		}
		if err := addChunk(b.lastReg, te, payloadEnd); err != nil {
			return err
		}
		b.offsets = append(b.offsets, te.Offset)
		return nil
	}
	b.lastReg = nil
	e, err := b.ix.add(te, b.limits)
	if err != nil {
		return err
	}
	if e.Type == TypeReg && e.Size > 0 {
		if err := addChunk(e, te, payloadEnd); err != nil {
			return err
		}
		b.offsets = append(b.offsets, te.Offset)
		b.lastReg = e
	}
	return nil
}

func (b *builder) finish(version int) (*Index, error) {
	if version != 1 {
		return nil, fmt.Errorf("%w: TOC version %d", ErrNotEStargz, version)
	}
	if err := b.ix.finish(b.offsets); err != nil {
		return nil, err
	}
	return b.ix, nil
}

// add validates one non-chunk entry and links it into the tree.
func (ix *Index) add(te *estargz.TOCEntry, limits Limits) (*Entry, error) {
	name, err := CleanName(te.Name)
	if err != nil {
		return nil, err
	}
	e := &Entry{Name: name, Type: internType(te.Type), Mode: modeOf(te.Mode)}
	if te.ModTime3339 != "" {
		e.ModTime, _ = time.Parse(time.RFC3339, te.ModTime3339)
	}
	switch te.Type {
	case TypeDir:
		if name == "." {
			ix.Root.Mode, ix.Root.ModTime = e.Mode, e.ModTime
			return ix.Root, nil
		}
	case TypeReg:
		if te.Size < 0 {
			return nil, fmt.Errorf("%w: %q has negative size", ErrNotEStargz, name)
		}
		e.Size = te.Size
		ix.TotalBytes += e.Size
		if ix.TotalBytes > limits.MaxBytes {
			return nil, fmt.Errorf("%w: files total more than %d bytes", ErrLimit, limits.MaxBytes)
		}
	case TypeSymlink:
		if te.LinkName == "" || strings.ContainsRune(te.LinkName, 0) {
			return nil, fmt.Errorf("%w: symlink %q has target %q", ErrUnsafeName, name, te.LinkName)
		}
		e.LinkName = te.LinkName
	case TypeHardlink:
		target, err := CleanName(te.LinkName)
		if err != nil {
			return nil, err
		}
		t, ok := ix.byName[target]
		if !ok || t.Type != TypeReg {
			return nil, fmt.Errorf("%w: hardlink %q points to %q, which is not an earlier file of the artifact", ErrUnsafeName, name, te.LinkName)
		}
		e.LinkName, e.Size = target, t.Size
	case TypeChar, TypeBlock, TypeFifo:
	default:
		return nil, fmt.Errorf("%w: entry %q has unknown type %q", ErrNotEStargz, name, te.Type)
	}
	if name == "." {
		return nil, fmt.Errorf("%w: the root is a %s", ErrNotEStargz, te.Type)
	}
	if prev, dup := ix.byName[name]; dup && prev.implicit && e.Type == TypeDir {
		prev.implicit, prev.Mode, prev.ModTime = false, e.Mode, e.ModTime
		return prev, nil
	} else if dup {
		return nil, fmt.Errorf("%w: duplicate entry %q", ErrNotEStargz, name)
	}
	ix.Files++
	if err := ix.overEntryLimit(); err != nil {
		return nil, err
	}
	parent, err := ix.parent(name)
	if err != nil {
		return nil, err
	}
	parent.Children = append(parent.Children, e)
	ix.byName[name] = e
	return e, nil
}

// parent returns the directory that holds name, adding the directories a
// TOC may leave implicit. A parent that is not a directory is refused: a
// file "under" a symlink is how archives write outside their tree.
func (ix *Index) parent(name string) (*Entry, error) {
	// Find the nearest listed ancestor, then add the missing ones below it,
	// each counted against the entry limit.
	var missing []string
	dir := path.Dir(name)
	p, ok := ix.byName[dir]
	for !ok {
		missing = append(missing, dir)
		dir = path.Dir(dir)
		p, ok = ix.byName[dir]
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if p.Type != TypeDir {
			break
		}
		ix.Files++
		if err := ix.overEntryLimit(); err != nil {
			return nil, err
		}
		child := &Entry{Name: missing[i], Type: TypeDir, Mode: 0o755, implicit: true}
		p.Children = append(p.Children, child)
		ix.byName[child.Name] = child
		p = child
	}
	if p.Type != TypeDir {
		return nil, fmt.Errorf("%w: %q is under %q, which is a %s", ErrUnsafeName, name, p.Name, p.Type)
	}
	return p, nil
}

func addChunk(e *Entry, te *estargz.TOCEntry, payloadEnd int64) error {
	var next int64
	if n := len(e.Chunks); n > 0 {
		last := e.Chunks[n-1]
		next = last.FileOffset + last.Size
	}
	if te.ChunkOffset != next {
		return fmt.Errorf("%w: chunk of %q at %d, expected %d", ErrNotEStargz, e.Name, te.ChunkOffset, next)
	}
	size := te.ChunkSize
	if size == 0 {
		size = e.Size - next
	}
	sum, sumErr := sha256Of(te.ChunkDigest)
	switch {
	case size <= 0 || size > e.Size-next:
		return fmt.Errorf("%w: chunk of %q has size %d", ErrNotEStargz, e.Name, te.ChunkSize)
	case size > MaxChunkBytes || te.InnerOffset > MaxChunkBytes:
		return fmt.Errorf("%w: chunk of %q is %d bytes at %d in its member; at most %d are read at once", ErrLimit, e.Name, size, te.InnerOffset, MaxChunkBytes)
	case te.Offset < 0 || te.Offset >= payloadEnd || te.InnerOffset < 0:
		return fmt.Errorf("%w: chunk of %q at blob offset %d is outside the data", ErrNotEStargz, e.Name, te.Offset)
	case sumErr != nil:
		return fmt.Errorf("%w: chunk of %q has no valid sha256 digest", ErrNotEStargz, e.Name)
	}
	c := Chunk{Offset: te.Offset, InnerOffset: te.InnerOffset, FileOffset: next, Size: size, SHA256: sum}
	if e.Chunks == nil && size == e.Size {
		e.Chunks = make([]Chunk, 0, 1) // the common case: one chunk, no spare room
	}
	e.Chunks = append(e.Chunks, c)
	return nil
}

// finish checks that every file's chunks cover it, sets where each chunk's
// compressed bytes end (at the next member), and sorts directories.
func (ix *Index) finish(offsets []int64) error {
	slices.Sort(offsets)
	offsets = slices.Compact(offsets)
	for _, e := range ix.byName {
		if e.Type == TypeReg {
			var covered int64
			if n := len(e.Chunks); n > 0 {
				covered = e.Chunks[n-1].FileOffset + e.Chunks[n-1].Size
			}
			if covered != e.Size {
				return fmt.Errorf("%w: chunks of %q cover %d of %d bytes", ErrNotEStargz, e.Name, covered, e.Size)
			}
			for i := range e.Chunks {
				c := &e.Chunks[i]
				j := sort.Search(len(offsets), func(j int) bool { return offsets[j] > c.Offset })
				c.End = ix.PayloadEnd
				if j < len(offsets) {
					c.End = offsets[j]
				}
			}
		}
		if e.Type == TypeDir {
			slices.SortFunc(e.Children, func(a, b *Entry) int { return strings.Compare(a.Name, b.Name) })
			e.Children = slices.Clip(e.Children)
		}
	}
	ix.byName = nil
	return nil
}

// Limits no artifact may pass, whatever the caller's Limits: they keep a
// single entry from costing unbounded memory or time.
const (
	MaxChunkBytes = 64 << 20 // a chunk, and where it starts in its member
	MaxNameBytes  = 4096     // a path, as PATH_MAX
	MaxDepth      = 256      // directory levels
)

// CleanName turns a TOC or tar name into a clean relative path ("." for
// the root), refusing absolute paths, "..", NUL and names that are not
// already clean (which could alias another entry).
func CleanName(name string) (string, error) {
	n := strings.TrimPrefix(name, "./")
	n = strings.TrimSuffix(n, "/")
	switch {
	case n == "" || n == ".":
		return ".", nil
	case strings.ContainsRune(n, 0), strings.HasPrefix(n, "/"), path.Clean(n) != n,
		n == "..", strings.HasPrefix(n, "../"):
		return "", fmt.Errorf("%w: %q", ErrUnsafeName, name)
	case len(n) > MaxNameBytes || strings.Count(n, "/") >= MaxDepth:
		return "", fmt.Errorf("%w: a name of %d bytes and %d levels (at most %d and %d)", ErrLimit, len(n), strings.Count(n, "/")+1, MaxNameBytes, MaxDepth)
	}
	for c := range strings.SplitSeq(n, "/") {
		if len(c) > 255 {
			return "", fmt.Errorf("%w: a name component of %d bytes (at most 255)", ErrLimit, len(c))
		}
	}
	return n, nil
}

// sha256Of decodes a "sha256:<64 lowercase hex digits>" digest, the only
// kind eStargz writes. (digest.Validate would check it with a regular
// expression, a tenth of the time an ls of many files takes.)
func sha256Of(s string) (sum [sha256.Size]byte, err error) {
	hexPart, ok := strings.CutPrefix(s, "sha256:")
	if !ok || len(hexPart) != 2*sha256.Size || strings.ContainsAny(hexPart, "ABCDEF") {
		return sum, fmt.Errorf("%q is not a sha256 digest", s)
	}
	_, err = hex.Decode(sum[:], []byte(hexPart))
	return sum, err
}

// internType returns the package's constant for a known entry type, so
// that the index holds one copy of each rather than one per entry.
func internType(t string) string {
	for _, known := range []string{TypeReg, TypeDir, TypeSymlink, TypeHardlink, TypeChar, TypeBlock, TypeFifo} {
		if t == known {
			return known
		}
	}
	return t
}

func cleanOrEmpty(name string) string {
	n, err := CleanName(name)
	if err != nil {
		return ""
	}
	return n
}

// modeOf keeps the permission and special bits of a tar mode.
func modeOf(m int64) fs.FileMode {
	mode := fs.FileMode(m) & fs.ModePerm
	if m&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}
