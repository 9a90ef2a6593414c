//go:build !windows

package blobber

// localModesCompared: pull writes the artifact's modes (see
// extract.DiskPerm), so a directory's modes are compared with them.
const localModesCompared = true
