package toc

import (
	"slices"
	"strings"
	"unsafe"
)

// entryMore is what only some entries have: a directory its children, a
// symlink or hardlink its target. Files, most of an index, have chunks
// instead (see Entry.data).
type entryMore struct {
	children []*Entry // sorted by name once the index is finished
	linkName string
}

// Children are a directory's entries, sorted by name; none for other
// entries. The slice is the index's own: callers do not change it.
func (e *Entry) Children() []*Entry {
	if m := e.more(); m != nil {
		return m.children
	}
	return nil
}

// Child is the directory's entry called base, a name without a slash,
// found among its sorted children (which share the directory's name and a
// slash before their own, so that they sort as their base names do).
func (e *Entry) Child(base string) (*Entry, bool) {
	children := e.Children()
	skip := len(e.Name) + 1
	if e.Name == "." {
		skip = 0
	}
	j, found := slices.BinarySearchFunc(children, base, func(c *Entry, b string) int { return strings.Compare(c.Name[skip:], b) })
	if !found {
		return nil, false
	}
	return children[j], true
}

// LinkName is a symlink's target as stored, or for a hardlink the clean
// name of its target; "" for other entries.
func (e *Entry) LinkName() string {
	if m := e.more(); m != nil {
		return m.linkName
	}
	return ""
}

func (e *Entry) more() *entryMore {
	if e.Type == TypeReg {
		return nil
	}
	return (*entryMore)(e.data)
}

func (e *Entry) setMore(m *entryMore) { e.data = unsafe.Pointer(m) }

func (e *Entry) addChild(c *Entry) {
	m := e.more()
	if m == nil {
		m = &entryMore{}
		e.setMore(m)
	}
	m.children = append(m.children, c)
}

// NewFile is a regular file called name made of chunks, which it keeps
// (not a copy), outside any index: for tests of the chunks' readers.
func NewFile(name string, chunks []Chunk) *Entry {
	e := &Entry{Name: name, Type: TypeReg, Mode: 0o644}
	if len(chunks) > 0 {
		last := chunks[len(chunks)-1]
		e.data, e.Size = unsafe.Pointer(&chunkRun{chunks: chunks}), last.FileOffset+last.Size
	}
	return e
}

// WithFirstChunks is a copy of the regular file e that holds only its
// first n chunks: a view for a reader that must not schedule the rest.
func (e *Entry) WithFirstChunks(n int) *Entry {
	view := *e
	switch n = min(max(n, 0), e.NumChunks()); {
	case n == 0:
		view.data, view.flags = nil, view.flags&^flagOneChunk
	case !e.oneChunk():
		view.data = unsafe.Pointer(&chunkRun{chunks: e.chunkList()[:n:n]})
	}
	return &view
}

// Blocks of the arenas below: an index's entries, chunks, chunk records
// and names are allocated a block at a time rather than one by one, which
// saves the rounding of each small allocation to its size class.
const (
	entryBlock  = 256
	chunkBlock  = 1024
	recordBlock = 1024
	nameBlock   = 64 << 10
)

// entryArena hands out the entries of an index.
type entryArena struct {
	block []Entry
	bytes int64 // of every block made
}

func (a *entryArena) new() *Entry {
	if len(a.block) == cap(a.block) {
		a.block = make([]Entry, 0, entryBlock)
		a.bytes += entryBlock * int64(unsafe.Sizeof(Entry{}))
	}
	a.block = a.block[:len(a.block)+1]
	return &a.block[len(a.block)-1]
}

// chunkArena holds the chunks of an index's files. A file's chunks stay
// contiguous: its chunks come one after the other while the TOC is read,
// so they are always the last ones of the current block, and a file that
// outgrows the block moves to a new one.
type chunkArena struct {
	block []Chunk // the current block; its length is what is used
	bytes int64   // of every block made
}

// add appends c to e's chunks, e being the file whose chunks were added
// last (or a file without any yet) and not kept as a chunkRecord.
func (a *chunkArena) add(e *Entry, c Chunk) {
	run := (*chunkRun)(e.data)
	if run == nil {
		run = &chunkRun{}
		e.data = unsafe.Pointer(run)
		a.bytes += int64(unsafe.Sizeof(chunkRun{}))
	}
	n := len(run.chunks)
	if len(a.block) == cap(a.block) {
		next := make([]Chunk, 0, max(chunkBlock, 2*(n+1)))
		a.bytes += int64(cap(next)) * int64(unsafe.Sizeof(Chunk{}))
		a.block = append(next, run.chunks...)
	}
	a.block = append(a.block, c)
	run.chunks = a.block[len(a.block)-n-1 : len(a.block) : len(a.block)]
}

// nameArena holds the names of an index's entries.
type nameArena struct {
	block []byte
	bytes int64 // of every block made, and of the long names kept apart
}

// keep returns a copy of s in the arena, or of its own for a long s.
func (a *nameArena) keep(s string) string {
	if len(s) == 0 || len(s) > nameBlock/16 {
		a.bytes += int64(len(s))
		return strings.Clone(s)
	}
	if len(s) > cap(a.block)-len(a.block) {
		a.block = make([]byte, 0, nameBlock)
		a.bytes += nameBlock
	}
	start := len(a.block)
	a.block = append(a.block, s...)
	return unsafe.String(&a.block[start], len(s))
}
