//go:build windows

package extract

import "golang.org/x/sys/windows"

// availableBytes is the free space of the volume holding path that this
// user may use (quotas included).
func availableBytes(path string) (uint64, bool) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return 0, false
	}
	var free, total, totalFree uint64
	if err := windows.GetDiskFreeSpaceEx(p, &free, &total, &totalFree); err != nil {
		return 0, false
	}
	return free, true
}
