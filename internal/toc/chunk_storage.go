package toc

import (
	"crypto/sha256"
	"fmt"
	"iter"
	"unsafe"
)

// A regular file's chunks are kept in one of two ways. Nearly every file
// of a tree of small files is one chunk that starts its compressed member:
// its FileOffset is 0, its Size the file's and its InnerOffset 0, so the
// index keeps only what the file does not already say, in a chunkRecord
// (flagOneChunk). Other files, few, keep their chunks whole, contiguous in
// the index's chunk blocks, through a chunkRun. Readers see Chunk values
// either way, through NumChunks, Chunk and Chunks.

// chunkRecord is the one chunk of a file that has one, starting its
// member: a Chunk without what the file gives.
type chunkRecord struct {
	offset int64
	sha256 [sha256.Size]byte
	layer  int32
	span   uint32
}

// chunkRun is the chunks of a file that keeps them whole.
type chunkRun struct {
	chunks []Chunk
}

// NumChunks is how many chunks a regular file has; 0 for other entries.
func (e *Entry) NumChunks() int {
	switch {
	case e.Type != TypeReg || e.data == nil:
		return 0
	case e.oneChunk():
		return 1
	}
	return len(e.chunkList())
}

// Chunk is the regular file's i-th chunk, in file order; it panics unless
// 0 <= i < NumChunks.
func (e *Entry) Chunk(i int) Chunk {
	if !e.oneChunk() {
		return e.chunkList()[i]
	}
	if i != 0 {
		panic(fmt.Sprintf("toc: chunk %d of a file of one chunk", i))
	}
	r := e.record()
	return Chunk{Offset: r.offset, Size: e.Size, SHA256: r.sha256, Layer: r.layer, span: r.span}
}

// Chunks yields a regular file's chunks with their indexes, in file
// order, covering exactly Size bytes; none for other entries.
func (e *Entry) Chunks() iter.Seq2[int, Chunk] {
	return func(yield func(int, Chunk) bool) {
		for i := range e.NumChunks() {
			if !yield(i, e.Chunk(i)) {
				return
			}
		}
	}
}

// AppendChunks appends the regular file's chunks to dst, in file order,
// for a reader that wants them as a slice.
func (e *Entry) AppendChunks(dst []Chunk) []Chunk {
	for _, c := range e.Chunks() {
		dst = append(dst, c)
	}
	return dst
}

// chunkList is the chunks of a file that keeps them whole (not
// flagOneChunk), as the index stores them.
func (e *Entry) chunkList() []Chunk {
	if e.Type != TypeReg || e.data == nil || e.oneChunk() {
		return nil
	}
	return (*chunkRun)(e.data).chunks
}

func (e *Entry) record() *chunkRecord { return (*chunkRecord)(e.data) }

// setChunkEnd records where the i-th chunk's compressed bytes end.
func (e *Entry) setChunkEnd(i int, end int64) {
	if !e.oneChunk() {
		e.chunkList()[i].SetEnd(end)
		return
	}
	r := e.record()
	r.span = uint32(min(max(end-r.offset, 0), maxSpan))
}

// setChunkLayer marks every chunk of the file as held by layer.
func (e *Entry) setChunkLayer(layer int32) {
	if e.oneChunk() {
		e.record().layer = layer
		return
	}
	chunks := e.chunkList()
	for i := range chunks {
		chunks[i].Layer = layer
	}
}

// recordArena holds the chunkRecords of an index's files of one chunk.
type recordArena struct {
	block []chunkRecord
	bytes int64 // of every block made
}

// keep makes c, the first and only chunk of the file e, e's record.
func (a *recordArena) keep(e *Entry, c Chunk) {
	if len(a.block) == cap(a.block) {
		a.block = make([]chunkRecord, 0, recordBlock)
		a.bytes += recordBlock * int64(unsafe.Sizeof(chunkRecord{}))
	}
	a.block = append(a.block, chunkRecord{offset: c.Offset, sha256: c.SHA256, layer: c.Layer, span: c.span})
	e.data, e.flags = unsafe.Pointer(&a.block[len(a.block)-1]), e.flags|flagOneChunk
}

// fitsRecord tells whether c, about to be the first chunk of the file e,
// is all of e starting its member, so that a chunkRecord can hold it.
func fitsRecord(e *Entry, c Chunk) bool {
	return e.data == nil && c.FileOffset == 0 && c.InnerOffset == 0 && c.Size == e.Size
}
