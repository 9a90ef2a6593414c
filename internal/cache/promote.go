package cache

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	digest "github.com/opencontainers/go-digest"
)

// setViewAndComplete makes v current and, if it holds every byte and
// nobody deferred that, verifies it and makes it the complete entry.
// Called with the lock held.
func (b *Blob) setViewAndComplete(v view) error {
	b.setView(v)
	if v.have.covers(0, b.size) && !b.deferPromote.Load() {
		return b.promote(v.f, true)
	}
	return nil
}

// DeferPromote is for a caller that reads the whole blob through b and
// hashes every byte it gets against the digest (a full pull): completing
// the blob then does not read it all again to verify it; the caller calls
// PromoteVerified once its own hash matched.
//
// The caller writes the bytes it hashed, in blob order, to the writer
// returned (see copy.go), which PromoteVerified keeps; the reads then keep
// nothing they fetch. A nil writer asks for nothing: the blob is complete
// already, or bigger than the cache's bound, or the copy could not be
// made (the reads then store what they fetch, as for any reader).
//
// A blob larger than the cache's bound is read without keeping what is
// fetched: its copy would be pruned as soon as the cache next looked at
// its size, taking the rest of the cache with it, and writing it would
// cost as much again as writing the files. What the cache already holds
// of it (its table of contents) is still served.
func (b *Blob) DeferPromote() io.Writer {
	b.deferPromote.Store(true)
	if bound := b.c.MaxSize(); bound > 0 && b.size > bound {
		b.noStore.Store(true)
		return nil
	}
	if b.err != nil || b.bypass || b.Complete() {
		return nil
	}
	c := b.startCopy()
	if c == nil {
		return nil
	}
	b.noStore.Store(true)
	return c
}

// PromoteVerified makes the cached bytes the complete entry without
// hashing them again: the caller of DeferPromote read all of them through
// b and found they match the digest. Nothing happens unless every byte is
// recorded.
func (b *Blob) PromoteVerified() error {
	if b.err != nil || b.bypass {
		return b.err
	}
	if c := b.takeCopy(); c != nil {
		b.noStore.Store(false)
		return b.keepCopy(c)
	}
	l, err := b.lockUnlessComplete()
	if l == nil {
		return err
	}
	defer l.unlock(false)
	idx, err := b.readIndex()
	if err != nil || !idx.covers(0, b.size) {
		return err
	}
	f, _, err := b.c.openRegular(b.dataPath(), os.O_RDWR)
	if err != nil {
		return err
	}
	if err := b.promote(f, false); err != nil {
		f.Close()
		return err
	}
	return nil
}

// promote verifies a data file that holds every byte of the blob and
// makes it the complete entry; one that does not match the digest is
// dropped, since some recorded bytes are wrong and there is no telling
// which. Called with the lock held.
func (b *Blob) promote(f *os.File, verify bool) error {
	h := sha256.New()
	buf := make([]byte, 1<<20)
	if verify {
		if _, err := io.CopyBuffer(h, io.NewSectionReader(f, 0, b.size), buf); err != nil {
			return err
		}
	}
	if got := digest.NewDigest(digest.SHA256, h); verify && got != b.dgst {
		b.dropPartialLocked()
		b.setView(view{})
		return fmt.Errorf("cache: blob %s: %w: cached bytes hash to %s", b.dgst, ErrDigestMismatch, got)
	}
	// No fsync: flushing a layer of gigabytes to disk would cost the pull
	// seconds, and a file the machine's crash left short or wrong is
	// caught by the digest checks every read makes, dropped and fetched
	// again.
	// Whatever is under the name is not a blob of this size (openComplete
	// checked), so it is debris.
	b.c.removeFiles(b.blobPath())
	if err := b.c.root.Rename(b.dataPath(), b.blobPath()); err != nil {
		return err
	}
	b.c.removeFiles(b.rangesPath())
	b.setView(view{f: f, complete: true})
	b.c.touch(b.blobPath())
	return nil
}

// Invalidate drops bytes in [off, off+n) that the caller found not to
// verify, so the next read fetches them again; the rest stays cached. A
// complete blob becomes a partial one that lacks those bytes: it was
// verified once, so a bad byte means the file changed on disk, but every
// read verifies what it gets (each chunk against its digest, the TOC
// against the manifest), so the bytes that still verify, the TOC just read
// among them, keep serving, and each range that does not is dropped when
// a read finds it.
func (b *Blob) Invalidate(off, n int64) error {
	if b.err != nil {
		return b.err
	}
	if b.bypass || n <= 0 {
		return nil
	}
	l, err := b.c.lock(b.hex)
	if err != nil {
		return err
	}
	defer l.unlock(false)
	defer b.setView(view{})
	end := off + n
	if end < off {
		end = math.MaxInt64 // overflowed: to the end
	}
	if v, ok := b.openComplete(); ok {
		v.f.Close()
		return b.demoteLocked(span{off, end})
	}
	if err := b.c.removeFiles(b.blobPath()); err != nil {
		return err
	}
	idx, err := b.readIndex()
	if errors.Is(err, errCorrupt) {
		b.dropPartialLocked()
		return nil
	} else if err != nil {
		return err
	}
	next := idx.remove(span{off, end})
	switch {
	case len(next) == 0:
		return b.c.removeFiles(b.rangesPath(), b.dataPath())
	case next.bytes() != idx.bytes():
		return b.c.writeAtomic(b.rangesPath(), next.marshal(b.size))
	}
	return nil
}

// demoteLocked turns the complete blob into a partial entry that records
// every byte but bad. The data file is moved first and its index written
// after, so a lock-free reader finds the complete blob, or a data file
// with no index (nothing recorded), or the index of that data file.
// Called with the lock held.
func (b *Blob) demoteLocked(bad span) error {
	next := ranges{{0, b.size}}.remove(bad)
	b.dropPartialLocked()
	b.c.forget(b.blobPath())
	if next.bytes() == 0 {
		return b.c.removeFiles(b.blobPath())
	}
	if err := b.c.root.Rename(b.blobPath(), b.dataPath()); err != nil {
		return errors.Join(err, b.c.removeFiles(b.blobPath()))
	}
	if err := b.c.writeAtomic(b.rangesPath(), next.marshal(b.size)); err != nil {
		return errors.Join(err, b.c.removeFiles(b.dataPath()))
	}
	return nil
}

// aheadReader is a remote that can be told that a stretch of the blob
// will be read in order (fetch.Blob.ReadAhead).
type aheadReader interface {
	ReadAhead(off, n int64)
}

// ReadAhead tells the remote that the caller will read [off, off+n) in
// order: of that, what reaches the remote is what the cache lacks, each
// stretch of it in order.
func (b *Blob) ReadAhead(off, n int64) {
	r, ok := b.remote.(aheadReader)
	if !ok || b.err != nil {
		return
	}
	if b.bypass {
		r.ReadAhead(off, n)
		return
	}
	v, err := b.snapshot()
	if err != nil || v.complete {
		return
	}
	for _, g := range v.have.gaps(off, off+n) {
		r.ReadAhead(g.start, g.end-g.start)
	}
}
