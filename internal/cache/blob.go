package cache

import (
	_ "crypto/sha512" // so sha384 and sha512 digests validate, and are read through uncached
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	digest "github.com/opencontainers/go-digest"
)

// RangeReader is where a Blob fetches the bytes it lacks, usually the
// network (fetch.Blob is one). Its ReadAt must be safe for concurrent use.
type RangeReader interface {
	ReadAt(p []byte, off int64) (int, error)
}

// maxIndexSize bounds a ranges index (about 1.5 million spans): a bigger
// file is not one this package wrote.
const maxIndexSize = 64 << 20

// errShort is a data file that ends inside bytes its index records.
var errShort = errors.New("cached data is shorter than its index")

// Blob reads one blob through the cache. It is safe for concurrent use.
type Blob struct {
	c      *Cache
	dgst   digest.Digest
	hex    string
	size   int64
	remote RangeReader
	err    error // set for a digest that must not name a file
	bypass bool  // a valid digest the cache does not store: read the remote
	// deferPromote: the caller reads every byte and checks the digest
	// itself, then calls PromoteVerified; completion does not re-hash.
	deferPromote atomic.Bool
	// noStore: fetched bytes are served, not kept (see DeferPromote).
	noStore atomic.Bool
	// copy is the whole copy the caller of DeferPromote writes, if any.
	copyMu sync.Mutex
	copy   *wholeCopy

	recMu     sync.Mutex
	recording bool          // a goroutine is in recordLater's loop
	toRecord  []writtenSpan // written ahead, for it to record

	mu      sync.Mutex
	v       view
	retired []*os.File // superseded views' files, which concurrent reads may still use
	closed  bool
}

// Blob returns a reader of the blob dgst, of the declared size, that
// serves what the cache holds and fetches the rest from remote, which may
// be nil when offline. A digest that is not sha256 but otherwise valid
// is read from remote without caching; a malformed one fails every read.
func (c *Cache) Blob(dgst digest.Digest, size int64, remote RangeReader) *Blob {
	b := &Blob{c: c, dgst: dgst, size: size, remote: remote}
	switch h, err := sha256Hex(dgst); {
	case size < 0:
		b.err = fmt.Errorf("cache: blob %s: negative size %d", dgst, size)
	case err == nil:
		b.hex = h
	case dgst.Validate() == nil:
		b.bypass = true
	default:
		b.err = fmt.Errorf("cache: %w", err)
	}
	return b
}

func (b *Blob) blobPath() string { return blobsDir + "/" + b.hex }

func (b *Blob) dataPath() string { return partialDir + "/" + b.hex + ".data" }

func (b *Blob) rangesPath() string { return partialDir + "/" + b.hex + ".ranges" }

// Size is the blob's declared size.
func (b *Blob) Size() int64 { return b.size }

// ReadAt reads len(p) bytes at off, from the cache where it has them and
// from the remote for each missing stretch (one call per gap). Fetched
// bytes are cached on a best-effort basis: a cache that cannot be
// written does not fail a read the remote could serve.
func (b *Blob) ReadAt(p []byte, off int64) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if off < 0 {
		return 0, fmt.Errorf("cache: blob %s: negative offset %d", b.dgst, off)
	}
	if off >= b.size {
		return 0, io.EOF
	}
	q := p[:min(int64(len(p)), b.size-off)]
	if len(q) == 0 {
		return 0, nil
	}
	var n int
	var err error
	if b.bypass {
		n, err = b.fetch(q, off)
	} else {
		n, err = b.read(q, off)
	}
	if err == nil && len(q) < len(p) {
		err = io.EOF
	}
	return n, err
}

func (b *Blob) read(q []byte, off int64) (int, error) {
	end := off + int64(len(q))
	for try := 0; ; try++ {
		v, err := b.snapshot()
		if err != nil {
			return 0, err
		}
		if !v.covers(off, end) {
			// Another process may have fetched it since.
			v = b.reload()
		}
		n, err := b.readView(v, q, off)
		if errors.Is(err, errShort) {
			b.drop(v)
			if try < 2 {
				continue
			}
			err = fmt.Errorf("cache: blob %s: %w", b.dgst, err)
		}
		return n, err
	}
}

// readView serves [off, off+len(q)) from v and, for what v lacks, from
// the remote; the fetched bytes are then stored.
func (b *Blob) readView(v view, q []byte, off int64) (int, error) {
	end := off + int64(len(q))
	if v.covers(off, end) {
		if err := readFull(v.f, q, off); err != nil {
			return 0, err
		}
		b.touch(v)
		return len(q), nil
	}
	for _, s := range v.have.within(off, end) {
		if err := readFull(v.f, q[s.start-off:s.end-off], s.start); err != nil {
			return 0, err
		}
	}
	gaps := v.have.gaps(off, end)
	if b.remote == nil {
		g := gaps[0]
		return int(g.start - off), fmt.Errorf("cache: blob %s bytes %d-%d: %w", b.dgst, g.start, g.end-1, ErrOffline)
	}
	var got []span
	n, ferr := len(q), error(nil)
	for _, g := range gaps {
		m, err := b.fetch(q[g.start-off:g.end-off], g.start)
		if m > 0 {
			got = append(got, span{g.start, g.start + int64(m)})
		}
		if err != nil {
			n, ferr = int(g.start-off)+m, err
			break
		}
	}
	if len(got) > 0 && !b.noStore.Load() {
		// The fetched bytes are served whether or not they could be kept.
		if err := b.store(q, off, got); err != nil && !errors.Is(err, ErrDigestMismatch) {
			b.c.writeError(fmt.Errorf("cache: blob %s: %w", b.dgst, err))
		} else {
			var n int64
			for _, s := range got {
				n += s.end - s.start
			}
			b.c.wrote(n)
		}
	}
	return n, ferr
}

// fetch reads q at off from the remote, insisting on all of it: an
// io.ReaderAt may return io.EOF with a full read at the end, and must not
// return a short read without an error.
func (b *Blob) fetch(q []byte, off int64) (int, error) {
	if b.remote == nil {
		return 0, fmt.Errorf("cache: blob %s bytes %d-%d: %w", b.dgst, off, off+int64(len(q))-1, ErrOffline)
	}
	m, err := b.remote.ReadAt(q, off)
	m = max(0, min(m, len(q)))
	switch {
	case m == len(q):
		return m, nil
	case err == nil:
		err = io.ErrUnexpectedEOF
	}
	return m, err
}

// readFull reads exactly len(q) bytes at off; a data file that ends early
// is corrupt (errShort), since only written bytes are ever recorded.
func readFull(f *os.File, q []byte, off int64) error {
	n, err := f.ReadAt(q, off)
	if n == len(q) {
		return nil
	}
	if err == nil || err == io.EOF {
		return errShort
	}
	return err
}

// Complete reports whether the whole blob is cached and verified.
func (b *Blob) Complete() bool {
	if b.err != nil || b.bypass {
		return false
	}
	v, err := b.snapshot()
	if err != nil {
		return false
	}
	if v.complete {
		return true
	}
	v, ok := b.openComplete()
	if ok {
		b.setView(v)
	}
	return ok
}

// Close releases the blob's files; reads after Close fail.
func (b *Blob) Close() error {
	b.dropCopy() // never kept: nobody verified it
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	if b.v.f != nil {
		b.v.f.Close()
	}
	for _, f := range b.retired {
		f.Close()
	}
	b.v, b.retired = view{}, nil
	return nil
}

func sameFile(f *os.File, fi os.FileInfo) bool {
	st, err := f.Stat()
	return err == nil && os.SameFile(st, fi)
}
