package toc

import (
	"crypto/sha256"
	"unsafe"
)

// HeapBytes is about how many bytes of memory the index holds: its
// blocks of entries, chunks and names, its directories' lists and its
// links' targets. A reader that holds buffers beside a large index can
// size them by it, so that the process, not only its buffers, stays
// within a bound (see pull's budget).
func (ix *Index) HeapBytes() int64 { return ix.heapBytes }

// treeBytes is what the index's directories and links hold besides their
// entries (kept apart from the blocks, see entryMore), and its whole-file
// digests.
func (ix *Index) treeBytes() int64 {
	const more = int64(unsafe.Sizeof(entryMore{}))
	const ptr = int64(unsafe.Sizeof((*Entry)(nil)))
	n := more + int64(cap(ix.Root.Children()))*ptr
	_ = ix.Walk(func(e *Entry) error {
		switch m := e.more(); {
		case m == nil:
		case e.Type == TypeDir:
			n += more + int64(cap(m.children))*ptr
		default:
			n += more + int64(len(m.linkName))
		}
		return nil
	})
	// A map's entry costs its key and value and about as much again.
	return n + int64(len(ix.fileDigests))*2*(ptr+sha256.Size)
}
