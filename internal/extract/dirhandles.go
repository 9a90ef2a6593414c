package extract

import (
	"os"
	"sync"
)

// dirHandles keeps directories of a staged extraction open, so that
// creating a file is one openat relative to its directory (createNew):
// os.Root opens and closes every parent on each call, and an *os.File
// opened by name tries the poller first (four fcntl and a failing
// epoll_ctl). A tree of small files paid these per file, twelve system
// calls where five do.
type dirHandles struct {
	mu   sync.Mutex
	open map[string]*os.File
}

// maxDirHandles bounds the directories held open. A pull goes through a
// tree in order, so a few suffice; when full, all are closed.
const maxDirHandles = 32

// closeAll closes every handle. A concurrent user of one keeps it open
// until done with it (the *os.File counts its users).
func (h *dirHandles) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closeLocked()
}

func (h *dirHandles) closeLocked() {
	for _, f := range h.open {
		f.Close()
	}
	h.open = nil
}
