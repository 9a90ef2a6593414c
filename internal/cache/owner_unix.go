//go:build unix

package cache

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// checkOwnDir refuses a directory of the cache that another user could
// write into, as ssh refuses such a ~/.ssh: whoever can create names in it
// can plant tag records, push fingerprints and data files that this user
// would then trust or write private bytes into.
func checkOwnDir(name string, fi fs.FileInfo) error {
	if err := checkOwner(name, fi); err != nil {
		return err
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%w: %s is writable by group or others (mode %v); chmod go-w it", ErrUnsafe, name, fi.Mode().Perm())
	}
	return nil
}

// checkOwnFile refuses a file of the cache that this user did not make:
// one owned by another user, or that others may read or write (every file
// this package makes is 0600, so such a file was made by someone else).
func checkOwnFile(name string, fi fs.FileInfo) error {
	if err := checkOwner(name, fi); err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%w: %s is open to group or others (mode %v)", ErrUnsafe, name, fi.Mode().Perm())
	}
	return nil
}

func checkOwner(name string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%w: %s: no owner information", ErrUnsafe, name)
	}
	if uid := os.Geteuid(); int64(st.Uid) != int64(uid) {
		return fmt.Errorf("%w: %s is owned by uid %d, not by this user (uid %d)", ErrUnsafe, name, st.Uid, uid)
	}
	return nil
}
