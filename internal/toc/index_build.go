package toc

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/containerd/stargz-snapshotter/estargz"

	"github.com/blobber-dev/blobber/internal/compression"
)

// builder validates TOC entries one by one into an Index. It keeps no
// map of every name while it builds: at the peak of reading a TOC of
// many files, such a map (and a list of every chunk's offset) cost as
// much as a third of the index itself. Directories are few and found by
// name; a file's duplicate is found once its directory is sorted
// (finish); a file is looked up by name only for a hardlink's target.
type builder struct {
	ix     *Index
	limits Limits
	dirs   map[string]*Entry // every directory so far, implicit ones included
	// regs are the regular files so far by name, built at the first
	// hardlink that needs its target (see regular); nil until then.
	regs    map[string]*Entry
	lastReg *Entry
	ends    chunkEnds
	chunks  chunkArena
	records recordArena
	entries entryArena
	names   nameArena
	// lastDigest is the whole-file digest the TOC gives lastReg, kept
	// once the file turns out to have several chunks (see Index.FileDigest).
	lastDigest    [sha256.Size]byte
	lastHasDigest bool
}

func newBuilder(c compression.Compression, blobSize, payloadEnd int64, limits Limits) *builder {
	ix := &Index{
		Compression: c,
		BlobSize:    blobSize,
		PayloadEnd:  payloadEnd,
		Root:        &Entry{Name: ".", Type: TypeDir, Mode: 0o755, data: unsafe.Pointer(&entryMore{})},
	}
	ix.Root.implicit = true // until the TOC lists it, like any parent
	ix.maxEntries = limits.MaxEntries
	return &builder{ix: ix, limits: limits, dirs: map[string]*Entry{".": ix.Root}, ends: newChunkEnds()}
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
		if err := b.addChunk(b.lastReg, te, payloadEnd); err != nil {
			return err
		}
		b.ends.add(b.lastReg, b.lastReg.NumChunks()-1)
		return nil
	}
	b.keepFileDigest()
	b.lastReg = nil
	e, err := b.addEntry(te)
	if err != nil {
		return err
	}
	if e.Type == TypeReg && e.Size > 0 {
		if err := b.addChunk(e, te, payloadEnd); err != nil {
			return err
		}
		b.ends.add(e, 0)
		b.lastReg = e
		sum, err := sha256Of(te.Digest)
		b.lastDigest, b.lastHasDigest = sum, err == nil
	}
	return nil
}

// keepFileDigest records the whole-file digest of the file just ended if
// it has several chunks: for a file of one chunk it is the chunk's, and
// keeping only the others costs the index little.
func (b *builder) keepFileDigest() {
	if b.lastReg == nil || !b.lastHasDigest || b.lastReg.NumChunks() < 2 {
		return
	}
	if b.ix.fileDigests == nil {
		b.ix.fileDigests = map[*Entry][sha256.Size]byte{}
	}
	b.ix.fileDigests[b.lastReg] = b.lastDigest
}

func (b *builder) finish(version int) (*Index, error) {
	b.keepFileDigest()
	if version != 1 {
		return nil, fmt.Errorf("%w: TOC version %d", ErrNotEStargz, version)
	}
	if err := b.ix.finish(&b.ends); err != nil {
		return nil, err
	}
	b.dirs, b.regs = nil, nil
	b.ix.heapBytes = b.entries.bytes + b.chunks.bytes + b.records.bytes + b.names.bytes + b.ix.treeBytes()
	return b.ix, nil
}

// addEntry validates one non-chunk entry and links it into the tree.
func (b *builder) addEntry(te *estargz.TOCEntry) (*Entry, error) {
	ix, limits := b.ix, b.limits
	name, err := CleanName(te.Name)
	if err != nil {
		return nil, err
	}
	name = b.names.keep(name)
	typ, known := parseType(te.Type)
	if !known {
		return nil, fmt.Errorf("%w: entry %q has unknown type %q", ErrNotEStargz, name, te.Type)
	}
	e := b.entries.new()
	e.Name, e.Type, e.Mode = name, typ, modeOf(te.Mode)
	if typ == TypeDir {
		e.setMore(&entryMore{})
	}
	if te.ModTime3339 != "" {
		t, _ := time.Parse(time.RFC3339, te.ModTime3339)
		e.setModTime(t)
	}
	switch typ {
	case TypeDir:
		if name == "." {
			ix.Root.copyModeAndTime(e)
			ix.Root.implicit = false
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
		e.setMore(&entryMore{linkName: te.LinkName})
	case TypeHardlink:
		target, err := CleanName(te.LinkName)
		if err != nil {
			return nil, err
		}
		t, ok := b.regular(target)
		if !ok {
			return nil, fmt.Errorf("%w: hardlink %q points to %q, which is not an earlier file of the artifact", ErrUnsafeName, name, te.LinkName)
		}
		e.setMore(&entryMore{linkName: target})
		e.Size = t.Size
	case TypeChar, TypeBlock, TypeFifo:
	}
	if name == "." {
		return nil, fmt.Errorf("%w: the root is a %s", ErrNotEStargz, te.Type)
	}
	// A name listed twice is found here when the first is a directory,
	// else by finish, once the directory's entries are sorted.
	if prev, dup := b.dirs[name]; dup && prev.implicit && e.Type == TypeDir {
		prev.implicit = false
		prev.copyModeAndTime(e)
		return prev, nil
	} else if dup {
		return nil, fmt.Errorf("%w: duplicate entry %q", ErrNotEStargz, name)
	}
	ix.Files++
	if err := ix.overEntryLimit(); err != nil {
		return nil, err
	}
	parent, err := b.parent(name)
	if err != nil {
		return nil, err
	}
	parent.addChild(e)
	switch {
	case e.Type == TypeDir:
		b.dirs[name] = e
	case e.Type == TypeReg && b.regs != nil:
		b.regs[name] = e
	}
	return e, nil
}

// regular returns the regular file called name among the entries so far.
// The first call indexes the files by name, which later ones keep up to
// date: an artifact without hardlinks never pays for it.
func (b *builder) regular(name string) (*Entry, bool) {
	if b.regs == nil {
		b.regs = map[string]*Entry{}
		_ = b.ix.Walk(func(e *Entry) error {
			if e.Type == TypeReg {
				b.regs[e.Name] = e
			}
			return nil
		})
	}
	e, ok := b.regs[name]
	return e, ok
}

// parent returns the directory that holds name, adding the directories a
// TOC may leave implicit. A parent that is not a directory is refused (by
// finish, which finds the file beside the directory added for it): a file
// "under" a symlink is how archives write outside their tree.
func (b *builder) parent(name string) (*Entry, error) {
	// Find the nearest directory, then add the missing ones below it,
	// each counted against the entry limit.
	ix := b.ix
	var missing []string
	dir := path.Dir(name)
	p, ok := b.dirs[dir]
	for !ok {
		missing = append(missing, dir)
		dir = path.Dir(dir)
		p, ok = b.dirs[dir]
	}
	for i := len(missing) - 1; i >= 0; i-- {
		ix.Files++
		if err := ix.overEntryLimit(); err != nil {
			return nil, err
		}
		child := b.entries.new()
		child.Name, child.Type, child.Mode, child.implicit, child.added = missing[i], TypeDir, 0o755, true, true
		child.setMore(&entryMore{})
		p.addChild(child)
		b.dirs[child.Name] = child
		p = child
	}
	return p, nil
}

func (b *builder) addChunk(e *Entry, te *estargz.TOCEntry, payloadEnd int64) error {
	var next int64
	if n := e.NumChunks(); n > 0 {
		last := e.Chunk(n - 1)
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
	if fitsRecord(e, c) {
		b.records.keep(e, c)
	} else {
		b.chunks.add(e, c)
	}
	return nil
}

// finish checks that every file's chunks cover it, sets where each chunk's
// compressed bytes end (at the next member), sorts directories and refuses
// a name listed twice.
func (ix *Index) finish(ends *chunkEnds) error {
	var visit func(d *Entry) error
	visit = func(d *Entry) error {
		children := d.Children()
		slices.SortFunc(children, func(a, b *Entry) int { return strings.Compare(a.Name, b.Name) })
		for i, e := range children {
			if i > 0 && children[i-1].Name == e.Name {
				return duplicate(children[i-1], e)
			}
			switch e.Type {
			case TypeReg:
				var covered int64
				if n := e.NumChunks(); n > 0 {
					last := e.Chunk(n - 1)
					covered = last.FileOffset + last.Size
				}
				if covered != e.Size {
					return fmt.Errorf("%w: chunks of %q cover %d of %d bytes", ErrNotEStargz, e.Name, covered, e.Size)
				}
			case TypeDir:
				if err := visit(e); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := visit(ix.Root); err != nil {
		return err
	}
	ends.finish(ix)
	return nil
}

// duplicate is the error for two entries of one name: a file or link
// beside the directory added as the parent of a later entry is that
// entry's parent, which must be a directory.
func duplicate(a, b *Entry) error {
	if b.added && b.Type == TypeDir {
		a, b = b, a
	}
	if a.added && a.Type == TypeDir && b.Type != TypeDir {
		under := a.Name
		if children := a.Children(); len(children) > 0 {
			under = children[0].Name
		}
		return fmt.Errorf("%w: %q is under %q, which is a %s", ErrUnsafeName, under, b.Name, b.Type)
	}
	return fmt.Errorf("%w: duplicate entry %q", ErrNotEStargz, b.Name)
}

// sha256Of decodes a "sha256:<64 lowercase hex digits>" digest, the only
// kind eStargz writes. (digest.Validate would check it with a regular
// expression, once per chunk: a cost an ls of many files shows.)
func sha256Of(s string) (sum [sha256.Size]byte, err error) {
	hexPart, ok := strings.CutPrefix(s, "sha256:")
	if !ok || len(hexPart) != 2*sha256.Size || strings.ContainsAny(hexPart, "ABCDEF") {
		return sum, fmt.Errorf("%q is not a sha256 digest", s)
	}
	_, err = hex.Decode(sum[:], []byte(hexPart))
	return sum, err
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
