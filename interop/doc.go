// Package interop holds tests that check Blobber against other tools
// (cosign v3) built from source. It is its own module so that those tools
// stay out of Blobber's dependencies; run it with `make interop`.
package interop
