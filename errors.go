package blobber

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"

	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote/errcode"

	"github.com/blobber-dev/blobber/internal/extract"
	"github.com/blobber-dev/blobber/internal/fetch"
	"github.com/blobber-dev/blobber/internal/target"
	"github.com/blobber-dev/blobber/internal/toc"
)

// Errors that callers can test for with errors.Is. Returned errors wrap one
// of them with what was being done and to what.
var (
	// ErrNotFound: the repository, tag, digest or path does not exist.
	// It also matches fs.ErrNotExist.
	ErrNotFound error = &kindError{"not found", fs.ErrNotExist}
	// ErrUnauthorized: the registry refused the credentials, or wants some.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrNotEStargz: the artifact is not a single eStargz layer blobber can
	// read (an ordinary container image, say), or its footer or TOC is
	// malformed.
	ErrNotEStargz = errors.New("not an eStargz artifact")
	// ErrPathTraversal: an entry's name or link would reach outside the tree.
	ErrPathTraversal = errors.New("path escapes the target directory")
	// ErrLimitExceeded: the artifact declares more files or bytes than the
	// limits allow.
	ErrLimitExceeded = errors.New("limit exceeded")
	// ErrDigestMismatch: content does not match the digest that names it.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrExists: pull would overwrite an existing file (see WithOverwrite).
	ErrExists error = &kindError{"file exists", fs.ErrExist}
	// ErrInvalidReference: the reference cannot be parsed.
	ErrInvalidReference = errors.New("invalid reference")
	// ErrUnsupportedEntry: the artifact holds a device or FIFO, which blobber
	// does not create.
	ErrUnsupportedEntry = errors.New("unsupported entry type")
)

type kindError struct {
	msg string
	is  error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.is }

// classify makes errors from the layers below match the package's
// sentinels, keeping their messages.
func classify(err error) error {
	if err == nil {
		return nil
	}
	kind := kindOf(err)
	if kind == nil || errors.Is(err, kind) {
		return err
	}
	return &classified{err: err, kind: kind}
}

func kindOf(err error) error {
	var resp *errcode.ErrorResponse
	var status *fetch.ErrStatus
	code := 0
	switch {
	case errors.As(err, &resp):
		code = resp.StatusCode
	case errors.As(err, &status):
		code = status.Code
	}
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return ErrUnauthorized
	case code == http.StatusNotFound, errors.Is(err, errdef.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, toc.ErrNotEStargz):
		return ErrNotEStargz
	case errors.Is(err, toc.ErrDigestMismatch):
		return ErrDigestMismatch
	case errors.Is(err, toc.ErrLimit):
		return ErrLimitExceeded
	case errors.Is(err, toc.ErrUnsafeName), errors.Is(err, extract.ErrPathTraversal):
		return ErrPathTraversal
	case errors.Is(err, extract.ErrExists):
		return ErrExists
	case errors.Is(err, target.ErrInvalidReference), errors.Is(err, errdef.ErrInvalidReference):
		return ErrInvalidReference
	}
	return nil
}

type classified struct {
	err  error
	kind error
}

func (c *classified) Error() string   { return c.err.Error() }
func (c *classified) Unwrap() []error { return []error{c.err, c.kind} }

// wrapf adds context to err and classifies it.
func wrapf(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	return classify(fmt.Errorf(format+": %w", append(args, err)...))
}
