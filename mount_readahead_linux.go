package blobber

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// mountReadaheadKB is the readahead asked of the kernel for a mount:
// several of the largest reads it sends (mountMaxRead), sent at once, so
// that a sequential reader finds its next bytes read already, in requests
// that each cost one round trip. FUSE's handshake can only lower the kernel's default
// (128 KiB), which costs a round trip for every 128 KiB.
const mountReadaheadKB = 4 << 10

// raiseReadahead raises the readahead of the mount at dir to
// mountReadaheadKB, through its backing device's read_ahead_kb in sysfs,
// which only root may write. It is a best effort: anywhere it cannot, the
// mount works as it is, with the kernel's default.
func raiseReadahead(dir string, logger *slog.Logger) {
	if os.Geteuid() != 0 {
		return
	}
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		logger.Debug("mount: not raising readahead", "error", err)
		return
	}
	path := fmt.Sprintf("/sys/class/bdi/%d:%d/read_ahead_kb", unix.Major(st.Dev), unix.Minor(st.Dev))
	cur, err := os.ReadFile(path)
	if err != nil {
		logger.Debug("mount: not raising readahead", "error", err)
		return
	}
	if kb, err := strconv.Atoi(strings.TrimSpace(string(cur))); err == nil && kb >= mountReadaheadKB {
		return
	}
	if err := os.WriteFile(path, []byte(strconv.Itoa(mountReadaheadKB)), 0); err != nil {
		logger.Debug("mount: not raising readahead", "path", path, "error", err)
	}
}
