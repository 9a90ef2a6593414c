// Package toc reads the table of contents of an eStargz blob and the chunks
// it points to, trusting nothing: the TOC's bytes are hashed while they are
// parsed, and nothing built from them is used unless they match the digest
// the manifest gives for the TOC; every name and offset in it is validated,
// and every chunk is checked against its digest before its bytes are
// handed out.
package toc

import "github.com/blobber-dev/blobber/internal/errdef"

var (
	// ErrNotEStargz: the blob has no valid eStargz footer or TOC.
	ErrNotEStargz = errdef.ErrNotEStargz
	// ErrDigestMismatch: bytes do not match the digest that vouches for them.
	ErrDigestMismatch = errdef.ErrDigestMismatch
	// ErrLimit: the TOC declares more than the reader's limits allow.
	ErrLimit = errdef.ErrLimitExceeded
	// ErrUnsafeName: an entry's name or link leaves the tree.
	ErrUnsafeName = errdef.Kind("unsafe path in artifact", errdef.ErrPathTraversal)
)
