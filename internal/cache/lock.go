package cache

import (
	"os"

	"github.com/blobber-dev/blobber/internal/filelock"
)

// entryLock is a file lock (internal/filelock) on one entry's lock file, exclusive for whatever
// changes the entry's index or moves or removes its files, shared for
// writing bytes into a partial entry's data file where it records none
// (Blob.writeAhead). Each lock opens the file anew, so it excludes other
// goroutines of this process as well as other processes, and the system
// releases it when a holder dies.
type entryLock struct {
	c    *Cache
	name string
	f    *os.File
}

func lockName(hex string) string { return locksDir + "/sha256-" + hex + ".lock" }

// lock waits for the lock of the entry hex. A holder may remove the lock
// file (when it removes the entry) while others wait on it; a waiter that
// then wins the lock on the removed file would exclude nobody, so it
// checks that the name still refers to the file it locked, and retries
// if not.
func (c *Cache) lock(hex string) (*entryLock, error) { return c.lockAs(hex, false) }

// lockShared waits for the shared lock of the entry hex: holders exclude
// lock's, not each other. It must be released with unlock(false).
func (c *Cache) lockShared(hex string) (*entryLock, error) { return c.lockAs(hex, true) }

func (c *Cache) lockAs(hex string, shared bool) (*entryLock, error) {
	name := lockName(hex)
	for {
		f, err := c.root.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			// A directory or a dangling symlink where the lock file
			// belongs would block every writer forever.
			if fi, lerr := c.root.Lstat(name); lerr == nil && !fi.Mode().IsRegular() {
				c.root.RemoveAll(name)
				continue
			}
			return nil, err
		}
		if err := filelock.Lock(f, shared); err != nil {
			f.Close()
			return nil, err
		}
		held, err1 := f.Stat()
		named, err2 := c.root.Lstat(name)
		if err1 == nil && err2 == nil && os.SameFile(held, named) {
			return &entryLock{c: c, name: name, f: f}, nil
		}
		// A symlink would never match what it points to: replace it.
		if err2 == nil && !named.Mode().IsRegular() {
			c.root.RemoveAll(name)
		}
		f.Close()
	}
}

// unlock releases the lock; with remove it first removes the lock file,
// which is only safe while holding it (see lock).
func (l *entryLock) unlock(remove bool) {
	if remove {
		l.c.root.Remove(l.name)
	}
	l.f.Close()
}

// lockUnlessComplete takes the entry's exclusive lock, unless the entry is
// complete (another command finished it): then the blob reads that entry
// from now on and no lock is held (nil, and nil for the error).
func (b *Blob) lockUnlessComplete() (*entryLock, error) {
	l, err := b.c.lock(b.hex)
	if err != nil {
		return nil, err
	}
	if v, ok := b.openComplete(); ok {
		b.setView(v)
		l.unlock(false)
		return nil, nil
	}
	return l, nil
}
