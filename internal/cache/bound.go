package cache

import (
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"
)

// The cache keeps itself under a size bound: when a process's writes may
// have taken it past the bound, it adds up what the cache holds and, past
// the bound, prunes the least recently used entries (Prune). Adding up
// costs a listing of the cache's directories, so it is done only when
// the total found by the last look (kept in a stamp file, with its time)
// plus what this process wrote since passes the bound, or every
// checkEvery bytes this process writes, or at its first write when no
// process has looked for checkInterval, so that many small commands are
// bounded too.

const (
	// DefaultMaxSize is the bound of a cache on a file system of more
	// than 100 GiB; on a smaller one it is a tenth of its size.
	DefaultMaxSize = 10 << 30

	// minDefaultMaxSize keeps a tiny file system's cache useful.
	minDefaultMaxSize = 256 << 20

	diskBlock     = 4096
	checkInterval = 10 * time.Minute
	stampFile     = "size-checked"

	// pruneTo is the share of the bound a prune brings the cache down
	// to, so that the next writes do not each prune again.
	pruneToPercent = 90
)

// DefaultMaxSizeFor is the default bound of a cache in dir: 10 GiB, or a
// tenth of its file system, whichever is smaller.
func DefaultMaxSizeFor(dir string) int64 {
	total, ok := fileSystemSize(dir)
	if !ok || total <= 0 {
		return DefaultMaxSize
	}
	return max(minDefaultMaxSize, min(DefaultMaxSize, total/10))
}

// SetMaxSize bounds the cache to n bytes (see the comment above); n <= 0
// leaves it unbounded, which is what Open does. Call it before the cache
// is used.
func (c *Cache) SetMaxSize(n int64) {
	c.maxSize = n
	c.checkEvery = max(64<<10, n/64)
}

// MaxSize is the bound set by SetMaxSize; 0 for none.
func (c *Cache) MaxSize() int64 { return max(0, c.maxSize) }

// wrote counts n bytes written to the cache and keeps the bound when they
// call for a look. It must be called without any entry lock held: a prune
// takes them.
func (c *Cache) wrote(n int64) {
	if c.maxSize <= 0 || n <= 0 {
		return
	}
	// What a write costs on disk is whole blocks.
	since := c.sinceCheck.Add((n + diskBlock - 1) / diskBlock * diskBlock)
	look := since >= c.checkEvery
	if !c.wroteOnce.Swap(true) {
		used, at, ok := c.readStamp()
		c.known.Store(used)
		look = look || !ok || time.Since(at) > checkInterval
	}
	if !look && c.known.Load()+since <= c.maxSize {
		return
	}
	if !c.checking.TryLock() {
		return // another goroutine is looking
	}
	defer c.checking.Unlock()
	c.sinceCheck.Store(0)
	c.keepBound()
}

// readStamp returns what the cache held at the last look, and when that
// was.
func (c *Cache) readStamp() (used int64, at time.Time, ok bool) {
	data, err := c.readSmall(stampFile, 64)
	if err != nil {
		return 0, time.Time{}, false
	}
	fields := strings.Fields(string(data))
	if len(fields) != 2 {
		return 0, time.Time{}, false
	}
	used, err1 := strconv.ParseInt(fields[0], 10, 64)
	unix, err2 := strconv.ParseInt(fields[1], 10, 64)
	if err1 != nil || err2 != nil || used < 0 {
		return 0, time.Time{}, false
	}
	return used, time.Unix(unix, 0), true
}

// keepBound prunes the cache if it holds more than its bound, and records
// what it holds then.
func (c *Cache) keepBound() {
	used := c.diskUsage()
	if used > c.maxSize {
		_, freed, err := c.Prune(c.maxSize/100*pruneToPercent, 0)
		if err != nil {
			c.writeError(err)
		}
		used -= freed
	}
	c.known.Store(used)
	c.writeAtomic(stampFile, fmt.Appendf(nil, "%d %d\n", used, time.Now().Unix()))
}

// diskUsage adds up the allocated size of the cache's files, without
// reading any of them (Info reads every tag record).
func (c *Cache) diskUsage() int64 {
	var total int64
	for _, d := range layoutDirs {
		c.list(d, func(_ string, fi fs.FileInfo) { total += diskSize(fi) })
	}
	return total
}
