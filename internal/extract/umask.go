package extract

import (
	"io/fs"
	"sync"
)

// processUmask is the process's file mode creation mask, read once: where
// the system does not show it, reading it means setting it (see
// umask_unix.go), best not done while other goroutines create files, so
// Open reads it before an extraction writes anything. A variable so that
// tests can read it again after changing it.
var processUmask = sync.OnceValue(readUmask)

// alwaysMasked is dropped whatever the umask says: a downloaded tree has no
// business granting world write.
const alwaysMasked fs.FileMode = 0o002

// DiskPerm returns the permission bits an entry of mode m gets on disk: only
// permission bits, so setuid, setgid and sticky bits from the artifact never
// reach the disk, with the process umask applied as tar does for a user
// other than root (under umask 077 a 0644 file comes out 0600), and never
// world-writable. Pull applies it to every file and directory, and cp to the
// file it writes.
func DiskPerm(m fs.FileMode) fs.FileMode {
	return m.Perm() &^ (processUmask() | alwaysMasked)
}
