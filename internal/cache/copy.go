package cache

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/blobber-dev/blobber/internal/pagewrite"
)

// A whole copy: a caller that reads a blob whole and hashes every byte
// itself (a full pull, see DeferPromote) also writes the bytes it hashed,
// in blob order, into one temporary file, which becomes the complete entry
// once the caller found that they match the digest. The cache then writes
// one file front to back, off the caller's reads, where storing what each
// read fetches would take the entry's lock, write its data file and
// replace its ranges index on every read. The reads keep nothing they
// fetch meanwhile; what the cache held before is still served. Another
// process's prune leaves the file alone while it is written to (see
// staleTemp); a copy left by a killed process is removed as debris.

// wholeCopy is a blob's whole copy being written.
type wholeCopy struct {
	b    *Blob
	name string // the temporary file's name in the cache
	mu   sync.Mutex
	f    *os.File // nil once dropped
	n    int64
	err  error // the first write that failed: the copy is not kept
}

var _ io.Writer = (*wholeCopy)(nil)

// startCopy makes the whole copy of b's bytes, replacing any left by an
// earlier read; nil if its file cannot be made, for reads to store what
// they fetch instead.
func (b *Blob) startCopy() *wholeCopy {
	b.dropCopy()
	name, f, err := b.c.createTemp(partialDir)
	if err != nil {
		return nil
	}
	c := &wholeCopy{b: b, name: name, f: f}
	b.copyMu.Lock()
	b.copy = c
	b.copyMu.Unlock()
	return c
}

// Write appends p, the blob's next bytes. A copy that fails a write is
// not kept; the caller may go on writing.
func (c *wholeCopy) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.f == nil:
		return 0, os.ErrClosed
	case c.err != nil:
		return 0, c.err
	case c.n+int64(len(p)) > c.b.size:
		c.err = fmt.Errorf("cache: blob %s: copy of more than its %d bytes", c.b.dgst, c.b.size)
		return 0, c.err
	}
	// In pieces: one write of a segment-sized buffer costs the kernel
	// several times more (see pagewrite).
	n, err := pagewrite.Write(c.f, p)
	c.n += int64(n)
	if err != nil {
		c.err = err
	}
	return n, err
}

// drop removes the copy's file.
func (c *wholeCopy) drop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.f == nil {
		return
	}
	c.f.Close()
	c.f = nil
	_ = c.b.c.root.Remove(c.name)
}

// takeCopy returns b's copy, if any, which b no longer holds.
func (b *Blob) takeCopy() *wholeCopy {
	b.copyMu.Lock()
	defer b.copyMu.Unlock()
	c := b.copy
	b.copy = nil
	return c
}

// dropCopy removes b's copy, if any.
func (b *Blob) dropCopy() {
	if c := b.takeCopy(); c != nil {
		c.drop()
	}
}

// keepCopy makes c, which the caller found to hold every byte of the blob
// as its digest says, the complete entry, in place of whatever partial
// entry the blob had; a copy that is short or failed a write is dropped.
func (b *Blob) keepCopy(c *wholeCopy) error {
	defer c.drop() // once renamed, its name is no longer the copy's
	c.mu.Lock()
	complete := c.f != nil && c.err == nil && c.n == b.size
	c.mu.Unlock()
	if !complete {
		return nil
	}
	l, err := b.lockUnlessComplete()
	if l == nil {
		return err
	}
	defer l.unlock(false)
	// No fsync, as for a promoted partial entry (see promote).
	b.c.removeFiles(b.blobPath())
	if err := b.c.root.Rename(c.name, b.blobPath()); err != nil {
		return err
	}
	c.mu.Lock()
	c.f.Close()
	c.f = nil
	c.mu.Unlock()
	// The partial entry is superseded; its index goes first, so that a
	// lock-free reader never pairs it with another data file.
	rerr := b.c.removeFiles(b.rangesPath(), b.dataPath())
	v, ok := b.openComplete()
	if !ok {
		return errors.Join(rerr, fmt.Errorf("cache: blob %s: the kept copy is gone", b.dgst))
	}
	b.setView(v)
	b.c.touch(b.blobPath())
	b.c.wrote(b.size)
	return rerr
}
