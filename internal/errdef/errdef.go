// Package errdef holds the errors callers test for with errors.Is. The
// root package re-exports them; the packages below it wrap them where the
// failure happens, so that no error needs translating on its way up.
package errdef

import (
	"errors"
	"io/fs"
)

// The sentinels (documented where the root package re-exports them).
var (
	ErrNotFound         = Kind("not found", fs.ErrNotExist)
	ErrUnauthorized     = errors.New("unauthorized")
	ErrNotEStargz       = errors.New("not an eStargz artifact")
	ErrPathTraversal    = errors.New("path escapes the target directory")
	ErrLimitExceeded    = errors.New("limit exceeded")
	ErrDigestMismatch   = errors.New("digest mismatch")
	ErrExists           = Kind("file exists", fs.ErrExist)
	ErrInvalidReference = errors.New("invalid reference")
	ErrUnsupportedEntry = errors.New("unsupported entry type")
	ErrOffline          = errors.New("needs the network, and the client is offline")
	ErrSignature        = errors.New("signature verification failed")
	ErrUnsigned         = Kind("no signature", ErrSignature)
	ErrInvalidOption    = errors.New("invalid option")
)

// Kind returns an error that says msg and matches kind: a particular
// failure (too many tags, say) of a general kind (ErrLimitExceeded), whose
// message stays its own.
func Kind(msg string, kind error) error { return &kindError{msg: msg, kind: kind} }

type kindError struct {
	msg  string
	kind error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }
