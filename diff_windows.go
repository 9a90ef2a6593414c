package blobber

// localModesCompared: a Windows file's mode says only whether it is
// read-only, which pull does not set from the artifact's mode.
const localModesCompared = false
