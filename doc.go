// Package blobber distributes directories of files through OCI registries.
//
// A push stores a tree as one eStargz layer: a gzip (or zstd) tar whose
// table of contents (TOC) lets a reader list the files and fetch any one of
// them with a few range requests. [Client.Open] returns an [Image], an
// [io/fs.FS] over a remote artifact that downloads only what is read;
// [Client.Pull] extracts a whole artifact safely into a directory.
//
// Every byte from a registry is checked against a digest before it is used:
// the manifest against its digest, the TOC against the manifest's
// annotation, each chunk read from an [Image] against the TOC, and a whole
// pulled blob against the manifest before its files appear.
package blobber
