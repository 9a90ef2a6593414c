package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// Sync states: what a sync recorded of the files it wrote into one local
// directory, filed under a key naming that directory. The cache keeps the
// bytes opaque; their owner checks that a record is the one it asked for
// (its key inside) and what it holds. A record is read, as every record
// here, only if this user made it (openRegular).
const (
	syncStatesDir = "sync"
	// maxSyncStateSize bounds a record: a few hundred bytes a file, for
	// trees of a few hundred thousand files.
	maxSyncStateSize = 256 << 20
)

func syncStatePath(key string) string {
	sum := sha256.Sum256([]byte(key))
	return syncStatesDir + "/" + hex.EncodeToString(sum[:]) + ".json"
}

// SyncState returns the sync state filed under key; ok is false when there
// is none, or none this user could have written. One too large to be a
// record is removed, as other refused records are.
func (c *Cache) SyncState(key string) (data []byte, ok bool) {
	data, err := c.readSmall(syncStatePath(key), maxSyncStateSize)
	if err != nil {
		if errors.Is(err, errCorrupt) {
			c.removeFiles(syncStatePath(key))
		}
		return nil, false
	}
	c.touch(syncStatePath(key))
	return data, true
}

// PutSyncState replaces the sync state filed under key, atomically.
func (c *Cache) PutSyncState(key string, data []byte) error {
	if len(key) == 0 || len(data) > maxSyncStateSize {
		return fmt.Errorf("cache: sync state of %d bytes under a key of %d bytes is empty or too large", len(data), len(key))
	}
	if err := c.ensureDir(syncStatesDir); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	if err := c.writeAtomic(syncStatePath(key), data); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	return nil
}

// DropSyncState removes the sync state filed under key, if any.
func (c *Cache) DropSyncState(key string) error {
	return c.removeFiles(syncStatePath(key))
}
