package cache

import (
	"cmp"
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	digest "github.com/opencontainers/go-digest"

	"github.com/blobber-dev/blobber/internal/filelock"
)

// Entry kinds, as reported in EntryInfo.Kind.
const (
	KindBlob     = "blob"     // a complete, verified blob
	KindPartial  = "partial"  // some byte ranges of a blob
	KindManifest = "manifest" // a manifest
	KindTag      = "tag"      // a resolved tag
	KindSource   = "source"   // repositories known to hold a blob
)

// Info describes the cache's contents.
type Info struct {
	Dir          string
	Blobs        int // complete blobs
	PartialBlobs int
	StalePartial int // partial blobs a killed process left unusable (see EntryInfo.Stale)
	Manifests    int
	Tags         int
	Trees        int   // pushed trees remembered by fingerprint (KindFingerprint)
	Shapes       int   // tree shapes of layers pushed or read (KindShape)
	Sources      int   // blobs with known source repositories
	Bytes        int64 // on disk, counting only allocated blocks of sparse files
	Entries      []EntryInfo
}

// EntryInfo describes one entry.
type EntryInfo struct {
	Kind     string
	Digest   digest.Digest // for a tag, fingerprint or shape, the manifest it names
	Key      string        // tags, fingerprints and shapes only
	Size     int64         // bytes on disk
	Complete bool          // false only for partial blobs
	LastUsed time.Time

	// Stale marks a partial blob that lacks its data file or its index
	// and has not changed for a while: what a process killed between
	// making one and the other leaves, which no read can use.
	Stale bool

	parts int      // files of a partial blob found: its data and its index
	hex   string   // the entry's lock, for blobs
	files []string // in removal order: an index before its data
	used  string   // the file whose time is LastUsed
}

// staleTemp is how old a temporary file must be for it to be debris from
// a killed process rather than a write in progress.
const staleTemp = 10 * time.Minute

// Info lists the entries of the cache.
func (c *Cache) Info() (Info, error) {
	info := Info{Dir: c.dir}
	entries, err := c.entries()
	if err != nil {
		return info, err
	}
	for _, e := range entries {
		switch e.Kind {
		case KindBlob:
			info.Blobs++
		case KindPartial:
			info.PartialBlobs++
			if e.Stale {
				info.StalePartial++
			}
		case KindManifest:
			info.Manifests++
		case KindTag:
			info.Tags++
		case KindFingerprint:
			info.Trees++
		case KindShape:
			info.Shapes++
		case KindSource:
			info.Sources++
		}
		info.Bytes += e.Size
	}
	info.Entries = entries
	return info, nil
}

func (c *Cache) entries() ([]EntryInfo, error) {
	var out []EntryInfo
	err := c.list(blobsDir, func(name string, fi fs.FileInfo) {
		if isHex(name) && fi.Mode().IsRegular() {
			out = append(out, EntryInfo{
				Kind: KindBlob, Digest: digest.NewDigestFromEncoded(digest.SHA256, name), Complete: true,
				Size: diskSize(fi), LastUsed: fi.ModTime(), hex: name, files: []string{blobsDir + "/" + name},
				used: blobsDir + "/" + name,
			})
		}
	})
	if err != nil {
		return nil, err
	}
	partial := map[string]int{}
	err = c.list(partialDir, func(name string, fi fs.FileInfo) {
		h, ext, ok := strings.Cut(name, ".")
		if !ok || !isHex(h) || (ext != "data" && ext != "ranges") {
			return
		}
		i, seen := partial[h]
		if !seen {
			i = len(out)
			partial[h] = i
			out = append(out, EntryInfo{
				Kind: KindPartial, Digest: digest.NewDigestFromEncoded(digest.SHA256, h), hex: h,
				files: []string{partialDir + "/" + h + ".ranges", partialDir + "/" + h + ".data"},
			})
		}
		e := &out[i]
		e.Size += diskSize(fi)
		e.parts++
		// The data file's time is the entry's: reads touch it, and writes
		// to it change it.
		if ext == "data" || e.LastUsed.IsZero() {
			e.LastUsed, e.used = fi.ModTime(), partialDir+"/"+name
		}
	})
	if err != nil {
		return nil, err
	}
	for _, i := range partial {
		e := &out[i]
		e.Stale = e.parts < 2 && time.Since(e.LastUsed) > staleTemp
	}
	err = c.list(manifestsDir, func(name string, fi fs.FileInfo) {
		if isHex(name) {
			out = append(out, EntryInfo{
				Kind: KindManifest, Digest: digest.NewDigestFromEncoded(digest.SHA256, name), Complete: true,
				Size: diskSize(fi), LastUsed: fi.ModTime(), files: []string{manifestsDir + "/" + name},
				used: manifestsDir + "/" + name,
			})
		}
	})
	if err != nil {
		return nil, err
	}
	err = c.list(tagsDir, func(name string, fi fs.FileInfo) {
		h, ok := strings.CutSuffix(name, ".json")
		if !ok || !isHex(h) {
			return
		}
		p := tagsDir + "/" + name
		e := EntryInfo{Kind: KindTag, Complete: true, Size: diskSize(fi), LastUsed: fi.ModTime(), files: []string{p}, used: p}
		if rec, err := c.readTag(p); err == nil {
			e.Digest, e.Key = rec.Digest, rec.Key
		}
		out = append(out, e)
	})
	if err != nil {
		return nil, err
	}
	trees, err := c.treeEntries()
	if err != nil {
		return nil, err
	}
	out = append(out, trees...)
	layers, err := c.layerEntries()
	if err != nil {
		return nil, err
	}
	out = append(out, layers...)
	err = c.list(sourcesDir, func(name string, fi fs.FileInfo) {
		if isHex(name) {
			p := sourcesDir + "/" + name
			out = append(out, EntryInfo{
				Kind: KindSource, Digest: digest.NewDigestFromEncoded(digest.SHA256, name), Complete: true,
				Size: diskSize(fi), LastUsed: fi.ModTime(), files: []string{p}, used: p,
			})
		}
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b EntryInfo) int {
		return cmp.Or(cmp.Compare(kindOrder(a.Kind), kindOrder(b.Kind)), strings.Compare(string(a.Digest), string(b.Digest)), strings.Compare(a.Key, b.Key))
	})
	return out, nil
}

func kindOrder(k string) int {
	return slices.Index([]string{KindBlob, KindPartial, KindManifest, KindTag, KindFingerprint, KindLayer, KindShape, KindSource}, k)
}

// list calls fn for each name in dir that is not a temporary file, and
// removes temporary files old enough to be debris.
func (c *Cache) list(dir string, fn func(name string, fi fs.FileInfo)) error {
	d, err := c.root.Open(dir)
	if err != nil {
		return err
	}
	des, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return err
	}
	for _, de := range des {
		fi, err := de.Info()
		if err != nil {
			continue // removed meanwhile
		}
		if strings.HasPrefix(de.Name(), tmpPrefix) {
			if time.Since(fi.ModTime()) > staleTemp {
				c.root.Remove(dir + "/" + de.Name())
			}
			continue
		}
		fn(de.Name(), fi)
	}
	return nil
}

func isHex(s string) bool {
	return len(s) == 64 && strings.Trim(s, "0123456789abcdef") == ""
}

// Prune removes stale partial blobs (EntryInfo.Stale), entries unused for
// longer than maxAge (0: no limit), then the least recently used ones
// until the cache holds at most maxSize bytes (0: no limit). An entry used
// since it was listed is kept.
func (c *Cache) Prune(maxSize int64, maxAge time.Duration) (removed int, freed int64, err error) {
	entries, err := c.entries()
	if err != nil {
		return 0, 0, err
	}
	var total int64
	for _, e := range entries {
		total += e.Size
	}
	slices.SortStableFunc(entries, func(a, b EntryInfo) int { return a.LastUsed.Compare(b.LastUsed) })
	now := time.Now()
	for _, e := range entries {
		old := maxAge > 0 && now.Sub(e.LastUsed) > maxAge
		big := maxSize > 0 && total > maxSize
		if !old && !big && !e.Stale {
			continue
		}
		ok, rerr := c.remove(e, true)
		if rerr != nil && err == nil {
			err = rerr
		}
		if ok {
			removed++
			freed += e.Size
			total -= e.Size
		}
	}
	c.sweepLocks(false)
	return removed, freed, err
}

// Clear removes every entry.
func (c *Cache) Clear() error {
	entries, err := c.entries()
	if err != nil {
		return err
	}
	for _, e := range entries {
		if _, rerr := c.remove(e, false); rerr != nil && err == nil {
			err = rerr
		}
	}
	c.sweepLocks(true)
	return err
}

// remove removes an entry, under its lock if it is a blob, so no writer
// is between writing data and recording it. With ifUnused, an entry whose
// time moved since it was listed is in use and kept.
func (c *Cache) remove(e EntryInfo, ifUnused bool) (bool, error) {
	if e.hex != "" {
		l, err := c.lock(e.hex)
		if err != nil {
			return false, err
		}
		defer l.unlock(true)
	}
	if ifUnused {
		// Gone (a partial blob since completed, say) or used since it
		// was listed: not this entry to remove.
		if fi, err := c.root.Lstat(e.used); err != nil || fi.ModTime().After(e.LastUsed) {
			return false, nil
		}
	}
	return true, c.removeFiles(e.files...)
}

// sweepLocks removes lock files nobody holds whose entry is gone (or all
// unheld ones, with all), so they do not pile up.
func (c *Cache) sweepLocks(all bool) {
	c.list(locksDir, func(name string, fi fs.FileInfo) {
		h, ok := strings.CutPrefix(name, "sha256-")
		h, ok2 := strings.CutSuffix(h, ".lock")
		if !ok || !ok2 || !isHex(h) {
			c.root.RemoveAll(locksDir + "/" + name)
			return
		}
		l, err := c.tryLock(h)
		if err != nil || l == nil {
			return
		}
		gone := true
		if !all {
			for _, p := range []string{blobsDir + "/" + h, partialDir + "/" + h + ".data", partialDir + "/" + h + ".ranges"} {
				if _, err := c.root.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
					gone = false
				}
			}
		}
		l.unlock(gone)
	})
}

// tryLock is lock without waiting; it returns nil if the lock is held.
func (c *Cache) tryLock(hex string) (*entryLock, error) {
	name := lockName(hex)
	f, err := c.root.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	if got, err := filelock.TryLock(f); err != nil || !got {
		f.Close()
		return nil, err
	}
	held, err1 := f.Stat()
	named, err2 := c.root.Lstat(name)
	if err1 != nil || err2 != nil || !os.SameFile(held, named) {
		f.Close()
		return nil, nil
	}
	return &entryLock{c: c, name: name, f: f}, nil
}
