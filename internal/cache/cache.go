// Package cache is a local content-addressed store of blobs, manifests and
// resolved tags, shared by every blobber process of a user, so that
// repeated reads cost no network and cached artifacts can be read offline.
//
// Blobs are cached by byte range: a read fetches only the parts it lacks,
// writes them at their offsets into a sparse data file and records them in
// a ranges index. A blob whose every byte is present is hashed and, if it
// matches its digest, becomes a complete entry.
//
// Layout under the cache directory:
//
//	blobs/sha256/<hex>            complete blobs, verified against <hex>
//	partial/sha256/<hex>.data     sparse data of an incomplete blob
//	partial/sha256/<hex>.ranges   which bytes of .data are present
//	manifests/sha256/<hex>        "<media type>\n" followed by the manifest
//	tags/<sha256 of key>.json     a resolved tag and when it was resolved
//	sources/sha256/<hex>          repositories known to hold blob <hex>, to mount it from
//	locks/sha256-<hex>.lock       flock(2) files serialising index updates
//
// Nothing on disk is trusted: a file is written to a temporary name and
// renamed, so a killed process leaves either the old or the new file;
// bytes are recorded in an index only after they are written; nothing is
// fsynced (gigabytes of blob data would cost seconds, and every read
// verifies what it gets, so what a machine crash leaves wrong is dropped
// and fetched again); and any
// entry that is not what this package writes (a symlink, a directory, a
// short data file, an index that does not parse, a manifest that does not
// match its digest) is removed and treated as a miss. Readers take no
// locks: bytes inside a recorded range never change, and the index is
// replaced atomically.
package cache

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	digest "github.com/opencontainers/go-digest"

	"github.com/blobber-dev/blobber/internal/errdef"
)

var (
	// ErrOffline is returned (wrapped) when a read needs bytes the cache
	// does not have and there is no remote to fetch them from.
	ErrOffline = errdef.Kind("not in the cache and offline", errdef.ErrOffline)
	// ErrInvalidDigest is returned (wrapped) for a digest that is malformed
	// or not sha256, before it can name a file.
	ErrInvalidDigest = errors.New("invalid or unsupported digest")
	// ErrDigestMismatch is returned (wrapped) when bytes offered to the
	// cache do not match the digest they are stored under.
	ErrDigestMismatch = errdef.Kind("digest mismatch", errdef.ErrDigestMismatch)
	// ErrUnsafe is returned (wrapped) by Open for a cache directory, or a
	// directory inside it, that another user owns or could write: its
	// records could be planted (see checkOwnDir).
	ErrUnsafe = errors.New("cache directory is not private to this user")

	// errCorrupt marks a file that is not what this package writes. Only
	// such files are removed on sight: an I/O error (too many open
	// files, say) says nothing about the entry.
	errCorrupt = errors.New("corrupt cache entry")
)

const (
	blobsDir     = "blobs/sha256"
	partialDir   = "partial/sha256"
	manifestsDir = "manifests/sha256"
	tagsDir      = "tags"
	sourcesDir   = "sources/sha256"
	locksDir     = "locks"

	// tmpPrefix marks files being written; Prune removes old ones, which
	// a killed process leaves behind.
	tmpPrefix = ".tmp-"

	// touchEvery bounds how often one process updates an entry's
	// last-used time: it only orders entries for Prune, and a metadata
	// write on every read would cost more than it tells.
	touchEvery = time.Minute
)

var layoutDirs = []string{blobsDir, partialDir, manifestsDir, tagsDir, fingerprintsDir, shapesDir, layersDir, sourcesDir, locksDir}

// DefaultDir resolves the cache directory: $BLOBBER_CACHE_DIR, else
// $XDG_CACHE_HOME/blobber, else ~/.cache/blobber.
func DefaultDir() (string, error) {
	if d := os.Getenv("BLOBBER_CACHE_DIR"); d != "" {
		return d, nil
	}
	// The XDG spec says a relative value is invalid and must be ignored.
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "blobber"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cache directory: %w", err)
	}
	return filepath.Join(home, ".cache", "blobber"), nil
}

// Cache is one cache directory. It is safe for concurrent use, and other
// processes may use the same directory at the same time.
type Cache struct {
	dir  string
	root *cacheRoot

	mu      sync.Mutex
	touched map[string]time.Time

	onWriteError func(error) // see OnWriteError
	writeFailed  sync.Once

	// The size bound (bound.go).
	maxSize    int64
	checkEvery int64
	wroteOnce  atomic.Bool
	sinceCheck atomic.Int64
	known      atomic.Int64 // bytes held at the last look
	checking   sync.Mutex

	hooks testHooks
}

// testHooks let a test stop a Blob of this cache at a moment that matters:
// each, when set (only tests set them), runs at the point its name says.
type testHooks struct {
	// afterDataWrite runs after fetched bytes are written to a data file
	// and before they are recorded: the window in which a killed process
	// must leave nothing that is served.
	afterDataWrite func()
	// beforeWriteAhead runs in writeAhead after it picked the data file
	// to write into and before it takes the shared lock.
	beforeWriteAhead func()
}

// OnWriteError sets fn to be told, once, of the first write to the cache
// that fails (a full disk, a read-only directory). Reads go on without
// caching what they fetch: a cache that cannot be written only costs
// speed. Call it before the cache is used.
func (c *Cache) OnWriteError(fn func(error)) { c.onWriteError = fn }

// writeError reports err, a failed write, to the OnWriteError function.
func (c *Cache) writeError(err error) {
	if err == nil || c.onWriteError == nil {
		return
	}
	c.writeFailed.Do(func() { c.onWriteError(err) })
}

// Open opens the cache in dir, creating it (0700) and its layout as
// needed. Another process may be doing the same at the same time. A
// directory that another user owns or could write is refused (ErrUnsafe).
func Open(dir string) (*Cache, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	// The directory as opened, not as named: a rename between the two
	// cannot swap another one in.
	fi, err := root.Stat(".")
	if err == nil {
		err = checkOwnDir(dir, fi)
	}
	if err != nil {
		root.Close()
		return nil, fmt.Errorf("cache: %w", err)
	}
	c := &Cache{dir: dir, root: &cacheRoot{Root: root}, touched: map[string]time.Time{}}
	for _, d := range layoutDirs {
		if err := c.ensureDir(d); err != nil {
			root.Close()
			return nil, fmt.Errorf("cache: %w", err)
		}
	}
	c.root.openDirRoots(layoutDirs)
	return c, nil
}

// ensureDir makes name a real directory. os.Root would follow a symlink
// that stays inside the cache, so one planted at, say, blobs/sha256 could
// make complete blobs and partial data alias; it is replaced instead.
func (c *Cache) ensureDir(name string) error {
	parts := strings.Split(name, "/")
	for i := range parts {
		p := path.Join(parts[:i+1]...)
		for try := 0; ; try++ {
			fi, err := c.root.Lstat(p)
			if err == nil && fi.IsDir() {
				if err := checkOwnDir(filepath.Join(c.dir, p), fi); err != nil {
					return err
				}
				break
			}
			if try == 3 {
				return fmt.Errorf("%s is not a directory", p)
			}
			if err == nil {
				c.root.RemoveAll(p)
			}
			// Another process may create it first; the next Lstat decides.
			if err := c.root.Mkdir(p, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
				return err
			}
		}
	}
	return nil
}

// Dir is the cache directory.
func (c *Cache) Dir() string { return c.dir }

// Close releases the cache directory. An open Blob keeps serving the
// files it already has open, but caches nothing more.
func (c *Cache) Close() error { return c.root.Close() }

// sha256Hex validates d before it becomes part of a file name: only
// sha256 with 64 lower-case hex digits passes, so no digest can spell a
// path.
func sha256Hex(d digest.Digest) (string, error) {
	if err := d.Validate(); err != nil {
		return "", fmt.Errorf("%w: %q: %v", ErrInvalidDigest, string(d), err)
	}
	if d.Algorithm() != digest.SHA256 {
		return "", fmt.Errorf("%w: %q: only sha256 is cached", ErrInvalidDigest, string(d))
	}
	h := d.Encoded()
	if len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
		return "", fmt.Errorf("%w: %q", ErrInvalidDigest, string(d))
	}
	return h, nil
}

// openRegular opens name only if it is a regular file, not a symlink or
// a directory, that this user made (checkOwnFile). A name that exists but
// is not such a file is removed, and reported as not existing. The second stat tells a swap between the
// check and the open; that is usually a concurrent atomic replace, so it
// is retried.
func (c *Cache) openRegular(name string, flag int) (*os.File, os.FileInfo, error) {
	for try := 0; ; try++ {
		fi, err := c.root.Lstat(name)
		if err != nil {
			return nil, nil, err
		}
		if !fi.Mode().IsRegular() {
			c.root.RemoveAll(name)
			return nil, nil, fmt.Errorf("%s is not a regular file: %w", name, fs.ErrNotExist)
		}
		if err := checkOwnFile(name, fi); err != nil {
			c.root.Remove(name)
			return nil, nil, fmt.Errorf("%w: %w", err, fs.ErrNotExist)
		}
		f, err := c.root.OpenFile(name, flag, 0)
		if err != nil {
			return nil, nil, err
		}
		got, err := f.Stat()
		if err == nil && os.SameFile(fi, got) && checkOwnFile(name, got) == nil {
			return f, got, nil
		}
		f.Close()
		if err != nil {
			return nil, nil, err
		}
		if try == 3 {
			return nil, nil, fmt.Errorf("%s keeps changing while it is opened: %w", name, fs.ErrNotExist)
		}
	}
}

// readSmall reads a small regular file (an index, a manifest, a tag),
// refusing anything larger than limit so a corrupted cache cannot make
// a reader allocate without bound.
func (c *Cache) readSmall(name string, limit int64) ([]byte, error) {
	f, fi, err := c.openRegular(name, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi.Size() > limit {
		// Refused before a byte is read: one planted file must not cost
		// every lookup its limit in memory.
		return nil, fmt.Errorf("%s: %w: %d bytes, more than %d", name, errCorrupt, fi.Size(), limit)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: %w: larger than %d bytes", name, errCorrupt, limit)
	}
	return data, nil
}

// writeAtomic replaces name with data: a reader sees the old file or the
// new one, never a part of either, even if the process is killed midway
// (the page cache outlives it). Nothing is fsynced: only a crash of the
// machine could leave a file empty or torn, and every reader checks what
// it reads (manifests and blobs against their digests, tag records and
// ranges indexes by their format) and drops a file that fails, so a crash
// costs a fetch, never a wrong answer. The fsyncs of a manifest and a tag
// (a file and its directory each) were a third of a 30 ms `ls` here, and
// wait behind any other writeback on the disk.
func (c *Cache) writeAtomic(name string, data []byte) error {
	dir := path.Dir(name)
	tmp, f, err := c.createTemp(dir)
	if err != nil {
		c.writeError(err)
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = c.root.Rename(tmp, name)
		if err != nil {
			// Rename cannot replace a directory; one where a file
			// belongs is debris, not data.
			if fi, lerr := c.root.Lstat(name); lerr == nil && fi.IsDir() {
				c.root.RemoveAll(name)
				err = c.root.Rename(tmp, name)
			}
		}
	}
	if err != nil {
		c.root.Remove(tmp)
		c.writeError(err)
		return err
	}
	return nil
}

func (c *Cache) createTemp(dir string) (string, *os.File, error) {
	for {
		var b [8]byte
		rand.Read(b[:])
		name := path.Join(dir, tmpPrefix+hex.EncodeToString(b[:]))
		f, err := c.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return name, f, err
	}
}

// touch records that name was used, for Prune's oldest-first order.
func (c *Cache) touch(name string) {
	now := time.Now()
	c.mu.Lock()
	if now.Sub(c.touched[name]) < touchEvery {
		c.mu.Unlock()
		return
	}
	c.touched[name] = now
	c.mu.Unlock()
	c.root.Chtimes(name, now, now)
}

// forget drops name's touch record, so an entry written again after it
// was removed is touched on its first use.
func (c *Cache) forget(name string) {
	c.mu.Lock()
	delete(c.touched, name)
	c.mu.Unlock()
}

// removeIfSame removes name if it is still the file fi describes, so a
// reader that found an entry bad does not remove a good one written since.
func (c *Cache) removeIfSame(name string, fi os.FileInfo) {
	if cur, err := c.root.Lstat(name); err == nil && os.SameFile(cur, fi) {
		c.removeFiles(name)
	}
}

// removeFiles removes names, whatever they are, ignoring ones that are
// already gone.
func (c *Cache) removeFiles(names ...string) error {
	var first error
	for _, n := range names {
		c.forget(n)
		if err := c.root.RemoveAll(n); err != nil && !errors.Is(err, fs.ErrNotExist) && first == nil {
			first = err
		}
	}
	return first
}
