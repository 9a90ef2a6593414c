package blobber

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"oras.land/oras-go/v2/content"
	orasdef "oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/errcode"

	"github.com/blobber-dev/blobber/internal/credential"
	"github.com/blobber-dev/blobber/internal/errdef"
	"github.com/blobber-dev/blobber/internal/extract"
)

// Errors that callers can test for with errors.Is. Returned errors wrap one
// of them with what was being done and to what.
var (
	// ErrNotFound: the repository, tag, digest or path does not exist.
	// It also matches fs.ErrNotExist.
	ErrNotFound = errdef.ErrNotFound
	// ErrUnauthorized: the registry refused the credentials, or wants some.
	ErrUnauthorized = errdef.ErrUnauthorized
	// ErrNotEStargz: the artifact is not a single eStargz layer blobber can
	// read (an ordinary container image, say), or its footer or TOC is
	// malformed.
	ErrNotEStargz = errdef.ErrNotEStargz
	// ErrPathTraversal: an entry's name or link would reach outside the tree.
	ErrPathTraversal = errdef.ErrPathTraversal
	// ErrLimitExceeded: the artifact declares more files or bytes than the
	// limits allow.
	ErrLimitExceeded = errdef.ErrLimitExceeded
	// ErrDigestMismatch: content does not match the digest that names it.
	ErrDigestMismatch = errdef.ErrDigestMismatch
	// ErrExists: pull would overwrite an existing file (see WithOverwrite).
	// It also matches fs.ErrExist.
	ErrExists = errdef.ErrExists
	// ErrInvalidReference: the reference cannot be parsed.
	ErrInvalidReference = errdef.ErrInvalidReference
	// ErrUnsupportedEntry: the artifact holds a device or FIFO, which blobber
	// does not create; or a pushed tree holds one, or a symlink that leads
	// out of the tree (see UnsupportedEntriesError).
	ErrUnsupportedEntry = errdef.ErrUnsupportedEntry
	// ErrOffline: the client is offline (WithOffline) and what was asked
	// needs the network: pushing or listing tags (except with an OCI
	// layout), signing, verifying, listing signatures.
	ErrOffline = errdef.ErrOffline
	// ErrSignature: verification was asked for (WithVerifier) and no
	// signature attached to the artifact verifies under the policy.
	ErrSignature = errdef.ErrSignature
	// ErrUnsigned: verification was asked for and the artifact has no
	// signature at all. It also matches ErrSignature.
	ErrUnsigned = errdef.ErrUnsigned
	// ErrInvalidOption: an option was given a value it cannot take, or
	// options contradict each other. The error names the option.
	ErrInvalidOption = errdef.ErrInvalidOption
	// ErrSymlinkPrivilege: the system lets this user create no symlinks
	// (Windows without Developer Mode or the "Create symbolic links"
	// privilege); WithDereferenceLinks pulls without creating any.
	ErrSymlinkPrivilege = extract.ErrSymlinkPrivilege
)

// CredentialHelperError is a credential helper (docker-credential-<name>,
// named by the registry configuration) that could not be run or failed.
// Its message names the helper, the registry and the configuration file;
// find it with errors.As.
type CredentialHelperError = credential.HelperError

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

// statusCode is the status of a registry's error response in err (oras-go's
// and the internal packages' alike), or 0.
func statusCode(err error) int {
	var resp *errcode.ErrorResponse
	if errors.As(err, &resp) {
		return resp.StatusCode
	}
	return 0
}

// requestMethod is the method of the request a registry's error response
// in err answered.
func requestMethod(err error) string {
	var resp *errcode.ErrorResponse
	if errors.As(err, &resp) {
		return resp.Method
	}
	return ""
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
		if method := requestMethod(err); method == http.MethodGet || method == http.MethodHead {
			what = "blob is shorter than its descriptor says"
		} else {
			// An upload session that holds other bytes than were sent.
			what = "the upload does not hold the bytes sent (416 Requested Range Not Satisfiable)"
		}
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

// kindOf is the sentinel for an error that does not wrap one: a
// registry's error response, by its status, and oras-go's errors. The
// internal packages wrap the sentinels themselves (internal/errdef).
func kindOf(err error) error {
	code := statusCode(err)
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden,
		errors.Is(err, auth.ErrBasicCredentialNotFound):
		return ErrUnauthorized
	case code == http.StatusNotFound, errors.Is(err, orasdef.ErrNotFound):
		return ErrNotFound
	case code == http.StatusRequestedRangeNotSatisfiable:
		// The blob is shorter than its descriptor says.
		return ErrDigestMismatch
	case errors.Is(err, content.ErrMismatchedDigest), errors.Is(err, content.ErrTrailingData):
		// The registry sent other bytes than the digest names.
		return ErrDigestMismatch
	case errors.Is(err, orasdef.ErrTooManyPages):
		// A listing that would not end.
		return ErrLimitExceeded
	case errors.Is(err, orasdef.ErrInvalidReference):
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
