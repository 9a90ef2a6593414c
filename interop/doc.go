// Package interop holds tests that check Blobber against other tools
// built from source: cosign v3 (signatures both ways) and the ORAS CLI
// (`oras pull` unpacks a Blobber artifact); and against runtimes installed
// from Debian: containerd 1.6 pulls and mounts a Blobber push (and an index
// of two platforms), skopeo 1.9 copies one between registries and Blobber
// reads the copy. Tests whose tool cannot run here (not installed, not
// root, no overlay mounts) skip, saying why. It is its own module so that
// those tools stay out of Blobber's dependencies; run it with
// `make interop`.
package interop
