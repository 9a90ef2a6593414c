//go:build unix

package extract

import "os"

// get returns the open directory dir of root.
func (h *dirHandles) get(root *os.Root, dir string) (*os.File, error) {
	h.mu.Lock()
	f := h.open[dir]
	h.mu.Unlock()
	if f != nil {
		return f, nil
	}
	f, err := root.Open(dir)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if g := h.open[dir]; g != nil {
		f.Close()
		return g, nil
	}
	if h.open == nil || len(h.open) >= maxDirHandles {
		h.closeLocked()
		h.open = map[string]*os.File{}
	}
	h.open[dir] = f
	return f, nil
}
