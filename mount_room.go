package blobber

import (
	"errors"
	"fmt"

	"github.com/blobber-dev/blobber/internal/toc"
)

// errMountReadSplit is why a read whose chunks fit the mount's budget one
// at a time, but not all at once, is served by ReadAt instead of from the
// chunks' own buffers: ReadAt copies each chunk's part and lets go of it
// before it fetches the next.
var errMountReadSplit = errors.New("the chunks of the read do not fit the mount's budget at once")

// chunkRoom is what fetching chunk c of img takes from a mount's budget:
// its compressed bytes and the buffer it decodes into.
func chunkRoom(img *Image, c toc.Chunk) int64 {
	return alignedBuffer(img.index.Need(c)) + alignedBuffer(c.InnerOffset+c.Size+mountDecodeSlack)
}

// checkRoom tells whether chunks first to last of the file fit the mount's
// budget: an error that wraps ErrLimitExceeded when one of them alone does
// not (a TOC may declare a chunk of up to 64 MiB, which the mount refuses
// rather than hold past its budget), errMountReadSplit when they do not
// fit together.
func (r *mountReader) checkRoom(first, last int) error {
	var total int64
	for i := first; i <= last; i++ {
		c := r.e.Chunk(i)
		room := chunkRoom(r.img, c)
		if room > r.mem.budget {
			return fmt.Errorf("%w: chunk %d of %s is %d bytes (%d compressed) and needs %d bytes of buffers, more than the mount holds (%d): read it with blobber cat or cp",
				ErrLimitExceeded, i, r.e.Name, c.Size, r.img.index.Need(c), room, r.mem.budget)
		}
		total += room
	}
	if total > r.mem.budget {
		return errMountReadSplit
	}
	return nil
}

// readByChunk fills p with the file's bytes from off, one chunk at a time.
func (r *mountReader) readByChunk(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) && off+int64(n) < r.e.Size {
		at := off + int64(n)
		i := chunkAt(r.e, at)
		if i >= r.e.NumChunks() {
			break
		}
		c := r.e.Chunk(i)
		parts, release, err := r.slices(at, int(min(int64(len(p)-n), c.FileOffset+c.Size-at)))
		if err != nil {
			return n, err
		}
		for _, part := range parts {
			n += copy(p[n:], part)
		}
		release()
	}
	return n, nil
}
