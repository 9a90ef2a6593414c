package cache

import (
	"crypto/sha256"
	_ "crypto/sha512" // so sha384 and sha512 digests validate, and are read through uncached
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"sync"
	"sync/atomic"

	digest "github.com/opencontainers/go-digest"

	"github.com/blobber-dev/blobber/internal/pagewrite"
)

// RangeReader is where a Blob fetches the bytes it lacks, usually the
// network (fetch.Blob is one). Its ReadAt must be safe for concurrent use.
type RangeReader interface {
	ReadAt(p []byte, off int64) (int, error)
}

// maxIndexSize bounds a ranges index (about 1.5 million spans): a bigger
// file is not one this package wrote.
const maxIndexSize = 64 << 20

// afterDataWrite, when set (by tests), runs after fetched bytes are
// written to a data file and before they are recorded: the
// window in which a killed process must leave nothing that is served.
var afterDataWrite func()

// beforeWriteAhead, when set (by tests), runs in writeAhead after it
// picked the data file to write into and before it takes the shared lock.
var beforeWriteAhead func()

// errShort is a data file that ends inside bytes its index records.
var errShort = errors.New("cached data is shorter than its index")

// view is one consistent reading of an entry: an open data file and the
// bytes of it that are known good. A file descriptor keeps serving its
// inode even after another process removes or replaces the entry, and
// recorded bytes of an inode never change, so a view never goes bad; it
// only goes stale, and staleness costs a reload, not correctness.
type view struct {
	f        *os.File // nil: nothing cached
	complete bool     // f is the verified whole blob
	have     ranges   // for a partial entry, the recorded bytes of f
}

func (v view) covers(a, b int64) bool { return v.f != nil && (v.complete || v.have.covers(a, b)) }

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

func (b *Blob) blobPath() string   { return blobsDir + "/" + b.hex }
func (b *Blob) dataPath() string   { return partialDir + "/" + b.hex + ".data" }
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
	if len(got) > 0 {
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

func (b *Blob) touch(v view) {
	if v.complete {
		b.c.touch(b.blobPath())
	} else {
		b.c.touch(b.dataPath())
	}
}

func (b *Blob) snapshot() (view, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return view{}, fmt.Errorf("cache: blob %s: %w", b.dgst, os.ErrClosed)
	}
	return b.v, nil
}

// setView makes v current. The file it replaces is kept open until
// Close, because a concurrent ReadAt may be reading from it.
func (b *Blob) setView(v view) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		if v.f != nil {
			v.f.Close()
		}
		return
	}
	if b.v.f != nil && b.v.f != v.f {
		b.retired = append(b.retired, b.v.f)
	}
	b.v = v
}

func (b *Blob) reload() view {
	v := b.load()
	b.setView(v)
	if v.f != nil && !v.complete && v.have.covers(0, b.size) {
		// Every byte is recorded but nobody verified them: the process
		// that wrote the last ones died first. Storing nothing promotes.
		b.store(nil, 0, nil)
		if cur, err := b.snapshot(); err == nil {
			return cur
		}
	}
	return v
}

// load reads the entry's current state from disk without a lock. The
// data file is identified before and after its index is read: an index
// only exists while the data file it describes does, so if the name
// still refers to the same file afterwards, the index is that file's.
func (b *Blob) load() view {
	if v, ok := b.openComplete(); ok {
		return v
	}
	cur, _ := b.snapshot()
	for range 3 {
		fi, err := b.c.root.Lstat(b.dataPath())
		if err != nil {
			// It may have just been verified and moved.
			if v, ok := b.openComplete(); ok {
				return v
			}
			return view{}
		}
		if !fi.Mode().IsRegular() {
			b.dropPartial()
			return view{}
		}
		f := cur.f
		if f == nil || cur.complete || !sameFile(f, fi) {
			// Read-write, so that store can reuse it; read-only still
			// serves a cache on a read-only file system.
			if f, _, err = b.c.openRegular(b.dataPath(), os.O_RDWR); err != nil {
				if f, _, err = b.c.openRegular(b.dataPath(), os.O_RDONLY); err != nil {
					continue
				}
			}
		}
		closeNew := func() {
			if f != cur.f {
				f.Close()
			}
		}
		idx, err := b.readIndex()
		if err != nil {
			closeNew()
			if errors.Is(err, errCorrupt) {
				b.dropPartial()
			}
			return view{}
		}
		if fi2, err := b.c.root.Lstat(b.dataPath()); err != nil || !os.SameFile(fi, fi2) {
			closeNew()
			continue
		}
		if st, err := f.Stat(); err != nil || st.Size() < idx.end() {
			closeNew()
			b.dropPartial()
			return view{}
		}
		return view{f: f, have: idx}
	}
	return view{}
}

// openComplete opens the verified blob, if there is one of the declared
// size. One of another size is removed: it is truncated or it is not
// this blob.
func (b *Blob) openComplete() (view, bool) {
	f, fi, err := b.c.openRegular(b.blobPath(), os.O_RDONLY)
	if err != nil {
		return view{}, false
	}
	if fi.Size() != b.size {
		f.Close()
		b.c.removeIfSame(b.blobPath(), fi)
		return view{}, false
	}
	return view{f: f, complete: true}, true
}

// readIndex returns the recorded ranges; none if there is no index, and
// an error if the index cannot be trusted.
func (b *Blob) readIndex() (ranges, error) {
	data, err := b.c.readSmall(b.rangesPath(), maxIndexSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return parseRanges(data, b.size)
}

// drop removes the entry v was read from, if it is still the current
// one: its data file ended inside recorded bytes.
func (b *Blob) drop(v view) {
	if v.f == nil {
		return
	}
	if fi, err := v.f.Stat(); err == nil {
		if v.complete {
			b.c.removeIfSame(b.blobPath(), fi)
		} else {
			l, err := b.c.lock(b.hex)
			if err == nil {
				if cur, err := b.c.root.Lstat(b.dataPath()); err == nil && os.SameFile(cur, fi) {
					b.dropPartialLocked()
				}
				l.unlock(false)
			}
		}
	}
	b.setView(view{})
}

func (b *Blob) dropPartial() {
	l, err := b.c.lock(b.hex)
	if err != nil {
		return
	}
	b.dropPartialLocked()
	l.unlock(false)
}

// dropPartialLocked removes a partial entry; the index goes first, so
// that a lock-free reader never finds an index without its data.
func (b *Blob) dropPartialLocked() {
	b.c.removeFiles(b.rangesPath(), b.dataPath())
}

// store writes fetched spans of q (which holds bytes from off) into the
// data file and records them. Only bytes not yet recorded are written:
// recorded bytes never change, which is what lets readers go without the
// lock. The index is replaced only after the data is written, so a
// process killed at any point leaves unrecorded bytes at worst, which are
// never served.
//
// Once the data file exists, the bytes are written under the entry's
// shared lock, in parallel with other writers, and recorded in groups
// under the exclusive one (writeAhead, recordLater): on a 1 GiB pull the
// goroutines otherwise queued 2 s in all behind each other's writes and
// index renames. Before the data file exists, or when writing ahead is not
// possible, one exclusive lock covers both.
func (b *Blob) store(q []byte, off int64, got []span) error {
	if len(got) > 0 {
		if f, wrote := b.writeAhead(q, off, got); f != nil {
			if len(wrote) > 0 {
				b.recordLater(f, wrote)
			}
			return nil
		}
	}
	l, err := b.c.lock(b.hex)
	if err != nil {
		return err
	}
	defer l.unlock(false)
	if v, ok := b.openComplete(); ok {
		b.setView(v)
		return nil
	}
	idx, err := b.readIndex()
	if errors.Is(err, errCorrupt) {
		b.dropPartialLocked()
		idx = nil
	} else if err != nil {
		return err
	}
	fi, err := b.c.root.Lstat(b.dataPath())
	exists := err == nil && fi.Mode().IsRegular()
	if !exists {
		// An index without its data file describes nothing; it must go
		// before a new data file appears, or a lock-free reader could
		// pair the two.
		b.dropPartialLocked()
		idx = nil
	}
	cur, _ := b.snapshot()
	f := cur.f
	if !exists || f == nil || cur.complete || !sameFile(f, fi) {
		if f, err = b.openData(exists); err != nil {
			return err
		}
	}
	v, err := b.write(f, idx, q, off, got)
	if err != nil {
		if f != cur.f {
			f.Close()
		}
		return err
	}
	return b.setViewAndComplete(v)
}

// openData opens the data file to write into: the existing one only if
// this user made it (openRegular checks), else a new one, created with
// O_EXCL so that nothing another process made in its place is written to.
// Called with the lock held.
func (b *Blob) openData(exists bool) (*os.File, error) {
	if exists {
		f, _, err := b.c.openRegular(b.dataPath(), os.O_RDWR)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		// Not ours, and removed: what its index recorded goes with it.
		b.dropPartialLocked()
	}
	return b.c.root.OpenFile(b.dataPath(), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
}

// writeAhead writes the spans of q that the entry has not recorded into
// the data file of the current view, under the shared lock: while it is
// held, no index changes and no data file is moved or removed, so the
// bytes go only where nothing is recorded, and into the file that is the
// entry's. It returns the file and what it wrote; no file if it could not
// write ahead (no partial view, a stale one, a read-only file), for the
// caller to store under the exclusive lock instead.
func (b *Blob) writeAhead(q []byte, off int64, got []span) (*os.File, []span) {
	v, err := b.snapshot()
	if err != nil || v.f == nil || v.complete {
		return nil, nil
	}
	if beforeWriteAhead != nil {
		beforeWriteAhead()
	}
	l, err := b.c.lockShared(b.hex)
	if err != nil {
		return nil, nil
	}
	defer l.unlock(false)
	fi, err := b.c.root.Lstat(b.dataPath())
	if err != nil || !sameFile(v.f, fi) {
		return nil, nil
	}
	idx, err := b.readIndex()
	if err != nil || fi.Size() < idx.end() {
		return nil, nil
	}
	wrote, err := writeUnrecorded(v.f, idx, q, off, got)
	if err != nil {
		return nil, nil
	}
	return v.f, wrote
}

// writtenSpan is bytes written ahead into f, not yet recorded.
type writtenSpan struct {
	f *os.File
	s span
}

// recordLater records spans written ahead into f. One goroutine at a time
// records, under the lock, everything written ahead so far, in one index
// replacement; the others leave theirs to it and return. Every span is
// recorded before the last ReadAt that wrote one returns.
func (b *Blob) recordLater(f *os.File, spans []span) {
	b.recMu.Lock()
	for _, s := range spans {
		b.toRecord = append(b.toRecord, writtenSpan{f, s})
	}
	if b.recording {
		b.recMu.Unlock()
		return
	}
	b.recording = true
	for len(b.toRecord) > 0 {
		batch := b.toRecord
		b.toRecord = nil
		b.recMu.Unlock()
		b.record(batch)
		b.recMu.Lock()
	}
	b.recording = false
	b.recMu.Unlock()
}

// record adds the spans written ahead to the index of the entry's data
// file, under the exclusive lock. A span written into a file that is no
// longer the entry's data file is dropped: nobody reads that file.
func (b *Blob) record(batch []writtenSpan) {
	l, err := b.c.lock(b.hex)
	if err != nil {
		return
	}
	defer l.unlock(false)
	if v, ok := b.openComplete(); ok {
		b.setView(v)
		return
	}
	fi, err := b.c.root.Lstat(b.dataPath())
	if err != nil || !fi.Mode().IsRegular() {
		return
	}
	idx, err := b.readIndex()
	if err != nil || fi.Size() < idx.end() {
		return // store, under this lock, sorts such an entry out
	}
	var spans []span
	isData := map[*os.File]bool{}
	for _, w := range batch {
		ok, seen := isData[w.f]
		if !seen {
			ok = sameFile(w.f, fi)
			isData[w.f] = ok
		}
		if ok && w.s.end <= fi.Size() {
			spans = append(spans, w.s)
		}
	}
	next, err := b.recordSpans(idx, spans)
	if err != nil {
		return
	}
	cur, err := b.snapshot()
	if err != nil || cur.f == nil || cur.complete || !sameFile(cur.f, fi) {
		return // the next read that misses reloads the index
	}
	b.setViewAndComplete(view{f: cur.f, have: next})
}

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
func (b *Blob) DeferPromote() { b.deferPromote.Store(true) }

// PromoteVerified makes the cached bytes the complete entry without
// hashing them again: the caller of DeferPromote read all of them through
// b and found they match the digest. Nothing happens unless every byte is
// recorded.
func (b *Blob) PromoteVerified() error {
	if b.err != nil || b.bypass {
		return b.err
	}
	l, err := b.c.lock(b.hex)
	if err != nil {
		return err
	}
	defer l.unlock(false)
	if v, ok := b.openComplete(); ok {
		b.setView(v)
		return nil
	}
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

func (b *Blob) write(f *os.File, idx ranges, q []byte, off int64, got []span) (view, error) {
	st, err := f.Stat()
	if err != nil {
		return view{}, err
	}
	if st.Size() < idx.end() {
		idx = nil // truncated: what it recorded is gone
	}
	if _, err := writeUnrecorded(f, idx, q, off, got); err != nil {
		return view{}, err
	}
	next, err := b.recordSpans(idx, got)
	if err != nil {
		return view{}, err
	}
	return view{f: f, have: next}, nil
}

// writeUnrecorded writes the bytes of q (which holds bytes from off) in
// the spans got that idx does not record into f, and returns the spans it
// wrote.
func writeUnrecorded(f *os.File, idx ranges, q []byte, off int64, got []span) ([]span, error) {
	var wrote []span
	for _, s := range got {
		for _, g := range idx.gaps(s.start, s.end) {
			if _, err := pagewrite.WriteAt(f, q[g.start-off:g.end-off], g.start); err != nil {
				return nil, err
			}
			wrote = append(wrote, g)
		}
	}
	return wrote, nil
}

// recordSpans replaces the index idx with idx plus spans, whose bytes are
// written, and returns the new index. Called with the lock held.
func (b *Blob) recordSpans(idx ranges, spans []span) (ranges, error) {
	next := idx
	for _, s := range spans {
		next = next.add(s)
	}
	if next.bytes() == idx.bytes() {
		return idx, nil
	}
	if afterDataWrite != nil {
		afterDataWrite()
	}
	// The index is replaced after the data is written, so a process killed
	// in between leaves bytes unrecorded, never recorded bytes unwritten.
	if err := b.c.writeAtomic(b.rangesPath(), next.marshal(b.size)); err != nil {
		return nil, err
	}
	return next, nil
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
