//go:build !unix && !windows

package extract

// availableBytes cannot learn the free space on this system.
func availableBytes(string) (uint64, bool) { return 0, false }
