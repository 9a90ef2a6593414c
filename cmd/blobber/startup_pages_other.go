//go:build !linux

package main

// dropStartupPages does nothing where the executable's pages cannot be
// found and dropped as on Linux (see startup_pages_linux.go).
func dropStartupPages() {}
