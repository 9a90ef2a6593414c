//go:build !(linux || darwin || freebsd)

package main

func freeSpace(string) (int64, uint64, error) { return 0, 0, errNoStatfs }
