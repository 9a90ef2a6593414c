package cache

import (
	"errors"
	"io/fs"
	"os"

	"github.com/blobber-dev/blobber/internal/pagewrite"
)

// store writes fetched spans of q (which holds bytes from off) into the
// data file and records them. Only bytes not yet recorded are written:
// recorded bytes never change, which is what lets readers go without the
// lock. The index is replaced only after the data is written, so a
// process killed at any point leaves unrecorded bytes at worst, which are
// never served.
//
// Once the data file exists, the bytes are written under the entry's
// shared lock, in parallel with other writers, and recorded in groups
// under the exclusive one (writeAhead, recordLater): otherwise the
// goroutines of a large pull queue behind each other's writes and index
// renames. Before the data file exists, or when writing ahead is not
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
	l, err := b.lockUnlessComplete()
	if l == nil {
		return err
	}
	defer l.unlock(false)
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
	if b.c.hooks.beforeWriteAhead != nil {
		b.c.hooks.beforeWriteAhead()
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
	l, _ := b.lockUnlessComplete()
	if l == nil {
		return
	}
	defer l.unlock(false)
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
	if b.c.hooks.afterDataWrite != nil {
		b.c.hooks.afterDataWrite()
	}
	// The index is replaced after the data is written, so a process killed
	// in between leaves bytes unrecorded, never recorded bytes unwritten.
	if err := b.c.writeAtomic(b.rangesPath(), next.marshal(b.size)); err != nil {
		return nil, err
	}
	return next, nil
}
