package blobber

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strings"

	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote/auth"
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
	// does not create; or a pushed tree holds one, or a symlink that leads
	// out of the tree (see UnsupportedEntriesError).
	ErrUnsupportedEntry = errors.New("unsupported entry type")
	// ErrOffline: the client is offline (WithOffline) and what was asked
	// needs the network: pushing or listing tags (except with an OCI
	// layout), signing, verifying, listing signatures.
	ErrOffline = errors.New("needs the network, and the client is offline")
	// ErrSignature: verification was asked for (WithVerifier) and no
	// signature attached to the artifact verifies under the policy.
	ErrSignature = errors.New("signature verification failed")
	// ErrUnsigned: verification was asked for and the artifact has no
	// signature at all. It also matches ErrSignature.
	ErrUnsigned error = &kindError{"no signature", ErrSignature}
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
	return &classified{msg: err.Error(), err: err, kind: kind}
}

// wrapf says what was being done, and to what, when err happened. A
// registry's HTTP error is shortened to its kind and the registry's own words.
func wrapf(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	msg := err.Error()
	if short := registryMessage(err); short != "" {
		msg = short
	}
	c := &classified{msg: fmt.Sprintf(format, args...) + ": " + msg, err: err, kind: kindOf(err)}
	if c.kind == nil || errors.Is(err, c.kind) {
		c.kind = nil
	}
	return c
}

func statusCode(err error) int {
	var resp *errcode.ErrorResponse
	var status *fetch.ErrStatus
	switch {
	case errors.As(err, &resp):
		return resp.StatusCode
	case errors.As(err, &status):
		return status.Code
	}
	return 0
}

// registryMessage is "not found: <what the registry said>" for an HTTP
// error from a registry, or "" for other errors.
func registryMessage(err error) string {
	code := statusCode(err)
	if code == 0 {
		return ""
	}
	var what string
	switch code {
	case http.StatusNotFound:
		what = "not found"
	case http.StatusUnauthorized:
		what = "unauthorized"
	case http.StatusForbidden:
		what = "denied"
	case http.StatusRequestedRangeNotSatisfiable:
		what = "blob is shorter than its descriptor says"
	default:
		what = fmt.Sprintf("registry answered %d %s", code, http.StatusText(code))
	}
	var resp *errcode.ErrorResponse
	if errors.As(err, &resp) && len(resp.Errors) > 0 {
		var said []string
		for _, e := range resp.Errors {
			said = append(said, strings.ToLower(e.Message))
		}
		what += " (" + strings.Join(said, "; ") + ")"
	}
	return what
}

func kindOf(err error) error {
	code := statusCode(err)
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden,
		errors.Is(err, auth.ErrBasicCredentialNotFound):
		return ErrUnauthorized
	case code == http.StatusNotFound, errors.Is(err, errdef.ErrNotFound):
		return ErrNotFound
	case code == http.StatusRequestedRangeNotSatisfiable, errors.Is(err, target.ErrSizeMismatch):
		// The blob is shorter than its descriptor says.
		return ErrDigestMismatch
	case errors.Is(err, fetch.ErrWrongRange), errors.Is(err, fetch.ErrDigestMismatch), errors.Is(err, content.ErrMismatchedDigest),
		errors.Is(err, content.ErrTrailingData), errors.Is(err, target.ErrDigestMismatch):
		// The registry sent other bytes than the range or digest asked for.
		return ErrDigestMismatch
	case errors.Is(err, errdef.ErrTooManyPages), errors.Is(err, target.ErrTooManyTags),
		errors.Is(err, extract.ErrNoSpace):
		// A listing that would not end; files that would not fit.
		return ErrLimitExceeded
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

// classified is an error from below that also matches a sentinel.
type classified struct {
	msg  string
	err  error
	kind error
}

func (c *classified) Error() string { return c.msg }
func (c *classified) Unwrap() []error {
	if c.kind == nil {
		return []error{c.err}
	}
	return []error{c.err, c.kind}
}
