package blobber

import (
	"fmt"
	"os"
	"sync"
)

// MountOption configures Image.Mount.
type MountOption func(*mountOptions) error

type mountOptions struct {
	allowOther bool
}

// WithAllowOther lets users other than the one who mounts read the mount
// (FUSE's allow_other; a user other than root needs user_allow_other in
// /etc/fuse.conf).
func WithAllowOther() MountOption {
	return func(o *mountOptions) error {
		o.allowOther = true
		return nil
	}
}

// Mounted is an Image mounted as a read-only filesystem. It stays mounted
// until Unmount, or until something else unmounts it (blobber umount,
// fusermount3 -u); Wait tells when.
type Mounted struct {
	dir     string
	wait    func()
	unmount func() error
	once    sync.Once
	err     error
	// mem is the chunk memory of the mount, for tests (nil where mount
	// is not supported).
	//lint:ignore U1000 set and read only where mount is supported (mount_unix.go)
	mem *mountMemory
}

// Dir is the mount point.
func (m *Mounted) Dir() string { return m.dir }

// Wait returns once the filesystem is unmounted.
func (m *Mounted) Wait() { m.wait() }

// Unmount unmounts the filesystem and returns once it no longer serves
// requests. A file still open on it is let go of: the mount is detached
// lazily rather than left behind. Calling it again returns what the first
// call did.
func (m *Mounted) Unmount() error {
	m.once.Do(func() {
		if err := m.unmount(); err != nil {
			m.err = fmt.Errorf("unmounting %s: %w", m.dir, err)
		}
	})
	return m.err
}

// Mount mounts the artifact read-only at dir, an existing directory, and
// returns once the kernel serves it. Listing and stat come from the table
// of contents; reading a file fetches and verifies only the chunks read,
// through the client's cache, and a chunk that does not verify fails the
// read with EIO. The kernel caches names, attributes and contents (the
// artifact never changes under a digest). Reads use the context the Image
// was opened with: cancelling it fails the reads in flight, so that an
// Unmount after it does not wait for them.
//
// Mount works on Linux (FUSE: /dev/fuse, and fusermount3 unless run as
// root) and macOS (macFUSE); elsewhere it returns an error that matches
// errors.ErrUnsupported.
func (img *Image) Mount(dir string, opts ...MountOption) (*Mounted, error) {
	var o mountOptions
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("mount point: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("mount point %s is not a directory", dir)
	}
	return img.mount(dir, o)
}

// Unmount unmounts what is mounted at dir (a mount of Image.Mount in
// another process, say), with fusermount3 -u, fusermount -u or umount,
// whichever the system has and lets this user run.
func Unmount(dir string) error {
	if err := unmountDir(dir); err != nil {
		return fmt.Errorf("unmounting %s: %w", dir, err)
	}
	return nil
}
