package extract

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/blobber-dev/blobber/internal/errdef"
)

// ErrNoSpace: the target's file system has less free space than the files
// to be written need.
var ErrNoSpace = errdef.Kind("not enough free space", errdef.ErrLimitExceeded)

// CheckFreeSpace refuses an extraction of need bytes into dir (which need
// not exist yet: its nearest existing parent is asked) when the file
// system there has less free space for this user, so that a small blob
// that declares huge files fails before writing instead of filling the
// disk. Where the free space cannot be learnt, nothing is refused.
func CheckFreeSpace(dir string, need int64) error {
	if need <= 0 {
		return nil
	}
	at, err := existingAncestor(dir)
	if err != nil {
		return nil
	}
	free, ok := availableBytes(at)
	if !ok || uint64(need) <= free {
		return nil
	}
	return fmt.Errorf("%s needs %s for its files, and its file system has %s free: %w", dir, byteSize(uint64(need)), byteSize(free), ErrNoSpace)
}

// existingAncestor is dir, or the nearest of its parents that exists.
func existingAncestor(dir string) (string, error) {
	p, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		_, err := os.Stat(p)
		if err == nil || !errors.Is(err, fs.ErrNotExist) {
			return p, err
		}
		parent := filepath.Dir(p)
		if parent == p {
			return "", err
		}
		p = parent
	}
}

// byteSize writes n in the largest binary unit that keeps it at least 1.
func byteSize(n uint64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n)/1024, 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, units[i])
}
