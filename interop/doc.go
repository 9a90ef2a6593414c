// Package interop holds tests that check Blobber against other tools
// built from source: cosign v3 (signatures both ways) and the ORAS CLI
// (`oras pull` unpacks a Blobber artifact). It is its own module so that
// those tools stay out of Blobber's dependencies; run it with
// `make interop`.
package interop
