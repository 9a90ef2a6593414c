package toc

import "unsafe"

// entryMore is what only some entries have: a directory its children, a
// symlink or hardlink its target. Files, most of an index, keep a nil
// pointer instead of both.
type entryMore struct {
	children []*Entry // sorted by name once the index is finished
	linkName string
}

// Chunks are a regular file's chunks, in file order, covering exactly Size
// bytes; none for other entries. The slice shares the index's storage:
// callers read it and do not append to it.
func (e *Entry) Chunks() []Chunk {
	if e.nChunks == 0 {
		return nil
	}
	return unsafe.Slice(e.chunks, e.nChunks)
}

// Children are a directory's entries, sorted by name; none for other
// entries. The slice is the index's own: callers do not change it.
func (e *Entry) Children() []*Entry {
	if e.more == nil {
		return nil
	}
	return e.more.children
}

// LinkName is a symlink's target as stored, or for a hardlink the clean
// name of its target; "" for other entries.
func (e *Entry) LinkName() string {
	if e.more == nil {
		return ""
	}
	return e.more.linkName
}

// NewFile is a regular file called name made of chunks, which it keeps
// (not a copy), outside any index: for tests of the chunks' readers.
func NewFile(name string, chunks []Chunk) *Entry {
	e := &Entry{Name: name, Type: TypeReg, Mode: 0o644}
	if len(chunks) > 0 {
		last := chunks[len(chunks)-1]
		e.chunks, e.nChunks, e.Size = &chunks[0], uint32(len(chunks)), last.FileOffset+last.Size
	}
	return e
}

// WithFirstChunks is a copy of the regular file e that holds only its
// first n chunks: a view for a reader that must not schedule the rest.
func (e *Entry) WithFirstChunks(n int) *Entry {
	view := *e
	view.nChunks = uint32(min(max(n, 0), int(e.nChunks)))
	if view.nChunks == 0 {
		view.chunks = nil
	}
	return &view
}

func (e *Entry) addChild(c *Entry) {
	if e.more == nil {
		e.more = &entryMore{}
	}
	e.more.children = append(e.more.children, c)
}

// chunkBlock is how many chunks a block of chunkArena holds, unless one
// file needs more.
const chunkBlock = 1024

// chunkArena holds the chunks of an index's files in shared blocks rather
// than in one small allocation per file. A file's chunks stay contiguous:
// its chunks come one after the other while the TOC is read, so they are
// always the last ones of the current block, and a file that outgrows the
// block moves to a new one.
type chunkArena struct {
	block []Chunk // the current block; its length is what is used
}

// add appends c to e's chunks, e being the file whose chunks were added
// last (or a file without any yet).
func (a *chunkArena) add(e *Entry, c Chunk) {
	n := int(e.nChunks)
	if len(a.block) == cap(a.block) {
		next := make([]Chunk, 0, max(chunkBlock, 2*(n+1)))
		a.block = append(next, e.Chunks()...)
	}
	a.block = append(a.block, c)
	e.chunks, e.nChunks = &a.block[len(a.block)-1-n], uint32(n+1)
}
