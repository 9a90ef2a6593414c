// Package filelock locks files already opened, for the cache's entries and
// extraction's staging directories. gofrs/flock and go-internal's
// lockedfile open the file themselves, by path, following a symlink found
// there; blobber opens its lock files through os.Root, so that a link
// planted in a shared directory cannot redirect them, and needs the lock
// on that very handle. A lock is released when its file is closed, or
// when its holder dies.
package filelock
