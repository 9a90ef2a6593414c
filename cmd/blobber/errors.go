package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/blobber-dev/blobber"
)

// Exit codes, so scripts can tell failures apart.
const (
	exitError        = 1 // anything else
	exitUsage        = 2 // bad arguments, flags or reference
	exitNotFound     = 3 // repository, tag or path does not exist
	exitUnauthorized = 4 // credentials refused or missing
	exitIntegrity    = 5 // digest mismatch, not eStargz, unsafe or over-limit artifact
	exitInterrupted  = 130
)

// usageError marks mistakes in how the command was called.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// reportError prints one line for err and returns the exit code.
func reportError(w io.Writer, err error) int {
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	code := exitError
	var usage usageError
	switch {
	case errors.Is(err, context.Canceled):
		msg, code = "interrupted", exitInterrupted
	case errors.Is(err, context.DeadlineExceeded):
		msg = "timed out (see --timeout): " + msg
	case errors.As(err, &usage), errors.Is(err, blobber.ErrInvalidReference):
		code = exitUsage
	case errors.Is(err, blobber.ErrNotFound):
		code = exitNotFound
	case errors.Is(err, blobber.ErrUnauthorized):
		code = exitUnauthorized
		msg += " (log in with `docker login` or check your credentials)"
	case errors.Is(err, blobber.ErrDigestMismatch), errors.Is(err, blobber.ErrNotEStargz),
		errors.Is(err, blobber.ErrPathTraversal), errors.Is(err, blobber.ErrLimitExceeded),
		errors.Is(err, blobber.ErrUnsupportedEntry):
		code = exitIntegrity
	}
	fmt.Fprintf(w, "blobber: %s\n", msg)
	return code
}
