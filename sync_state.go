package blobber

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"sync"

	digest "github.com/opencontainers/go-digest"

	"github.com/blobber-dev/blobber/internal/cache"
)

// syncStateVersion changes when the record's meaning does; a record of
// another version is not read.
const syncStateVersion = 1

// syncRecord is what the cache keeps of one directory: for each file a
// sync wrote or checked, its metadata then and the sha256 of its content.
type syncRecord struct {
	Version int                 `json:"version"`
	Dir     string              `json:"dir"` // the directory's key (syncKey)
	Files   map[string]syncFile `json:"files"`
}

// syncFile is one file's entry: Inode is 0 where the system has none.
type syncFile struct {
	Inode   uint64        `json:"inode,omitempty"`
	Size    int64         `json:"size"`
	ModTime int64         `json:"mtime"` // nanoseconds since the epoch
	Digest  digest.Digest `json:"digest"`
}

func syncFileOf(info fs.FileInfo, d digest.Digest) syncFile {
	_, ino, _ := fileIdentity(info)
	return syncFile{Inode: ino, Size: info.Size(), ModTime: info.ModTime().UnixNano(), Digest: d}
}

// matches tells whether info still describes the file f recorded.
func (f syncFile) matches(info fs.FileInfo) bool {
	_, ino, _ := fileIdentity(info)
	return info.Mode().IsRegular() && f.Inode == ino && f.Size == info.Size() && f.ModTime == info.ModTime().UnixNano()
}

// syncKey names the directory dir as the state is filed: its absolute path
// and its device and inode. The path keeps a state from being used for a
// directory moved elsewhere; the inode, for another directory made later
// under the same path, whose files could reuse the inodes, sizes and
// (fixed, as a push writes them) times of the old one's. Either way the
// files are then hashed once, which is safe.
func syncKey(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	info, err := os.Stat(abs)
	if err != nil {
		return "", err
	}
	dev, ino, _ := fileIdentity(info)
	return fmt.Sprintf("%s\x00%d:%d", abs, dev, ino), nil
}

// syncState is the state behind a sync's comparison (treediff.State and
// treediff.HashRecorder): it vouches for the files the previous record
// still describes and learns each local file's digest as the comparison
// finds it. Without a cache, or with checksum, it vouches for none.
type syncState struct {
	cache    *cache.Cache // nil: nothing recorded or saved
	key      string
	recorded map[string]syncFile
	checksum bool

	mu   sync.Mutex
	seen map[string]syncFile // what this run knows of local files' content
}

// loadSyncState reads what the cache holds for dir. A record that is not
// this directory's, of another version, or malformed is not used.
func (c *Client) loadSyncState(dir string, checksum bool) *syncState {
	s := &syncState{cache: c.cache, checksum: checksum, seen: map[string]syncFile{}}
	if c.cache == nil {
		return s
	}
	key, err := syncKey(dir)
	if err != nil {
		s.cache = nil // no directory yet: its key comes once it exists
		return s
	}
	s.key = key
	data, ok := c.cache.SyncState(key)
	if !ok {
		return s
	}
	var rec syncRecord
	if json.Unmarshal(data, &rec) != nil || rec.Version != syncStateVersion || rec.Dir != key {
		return s
	}
	for _, f := range rec.Files {
		if f.Digest.Algorithm() != digest.SHA256 || f.Digest.Validate() != nil {
			return s
		}
	}
	s.recorded = rec.Files
	return s
}

// Digest vouches for name when the record describes info.
func (s *syncState) Digest(name string, info fs.FileInfo) (digest.Digest, bool) {
	if s.checksum {
		return "", false
	}
	f, ok := s.recorded[name]
	if !ok || !f.matches(info) {
		return "", false
	}
	s.mu.Lock()
	s.seen[name] = f
	s.mu.Unlock()
	return f.Digest, true
}

// Hashed learns the digest of a file the comparison hashed.
func (s *syncState) Hashed(name string, info fs.FileInfo, d digest.Digest) {
	s.mu.Lock()
	s.seen[name] = syncFileOf(info, d)
	s.mu.Unlock()
}

// save records files (what this sync knows of DIR now) in place of the
// previous record. A cache that cannot be written only costs a hash of
// each file next time.
func (s *syncState) save(dir string, files map[string]syncFile) {
	if s.cache == nil || (s.recorded != nil && maps.Equal(files, s.recorded)) {
		return // nothing new to record: a sync that changed nothing writes nothing
	}
	if s.key == "" {
		key, err := syncKey(dir)
		if err != nil {
			return
		}
		s.key = key
	}
	data, err := json.Marshal(syncRecord{Version: syncStateVersion, Dir: s.key, Files: files})
	if err != nil {
		return
	}
	_ = s.cache.PutSyncState(s.key, data)
}
