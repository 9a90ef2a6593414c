package cache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

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
