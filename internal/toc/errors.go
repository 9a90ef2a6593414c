// Package toc reads the table of contents of an eStargz blob and the chunks
// it points to, trusting nothing: the TOC is checked against the digest the
// manifest gives for it before it is parsed, every name and offset in it is
// validated, and every chunk is checked against its digest before its bytes
// are handed out.
package toc

import "errors"

var (
	// ErrNotEStargz: the blob has no valid eStargz footer or TOC.
	ErrNotEStargz = errors.New("not an eStargz artifact")
	// ErrDigestMismatch: bytes do not match the digest that vouches for them.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrLimit: the TOC declares more than the reader's limits allow.
	ErrLimit = errors.New("limit exceeded")
	// ErrUnsafeName: an entry's name or link leaves the tree.
	ErrUnsafeName = errors.New("unsafe path in artifact")
)
