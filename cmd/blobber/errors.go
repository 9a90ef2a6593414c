package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/errcode"

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

// suggestion is an error with a correction the user may have meant, which
// reportError prints on a line of its own after the error's one line.
type suggestion struct {
	err  error
	hint string // "Did you mean `blobber cp a b`?"
}

func (s *suggestion) Error() string { return s.err.Error() }
func (s *suggestion) Unwrap() error { return s.err }

// usageWithHint is a usage error with the corrected commands the user may
// have meant, each a whole command line.
func usageWithHint(err error, commands ...string) error {
	if len(commands) == 0 {
		return usageError{err}
	}
	quoted := make([]string, len(commands))
	for i, c := range commands {
		quoted[i] = "`" + c + "`"
	}
	return usageError{&suggestion{err: err, hint: "Did you mean " + strings.Join(quoted, " or ") + "?"}}
}

// authContext is an error from a command during which one registry asked
// for credentials: host, and whether any were stored for it.
type authContext struct {
	host   string
	stored bool
	err    error
}

func (a *authContext) Error() string { return a.err.Error() }
func (a *authContext) Unwrap() error { return a.err }

// reportError prints one line for err and returns the exit code.
func reportError(w io.Writer, err error) int {
	var status exitStatus
	if errors.As(err, &status) {
		return int(status) // a result, not a failure (diff's "different")
	}
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	code := exitError
	var (
		usage  usageError
		helper *blobber.CredentialHelperError
	)
	switch {
	case errors.Is(err, context.Canceled):
		msg, code = "interrupted", exitInterrupted
	case errors.Is(err, context.DeadlineExceeded):
		msg = "timed out (see --timeout): " + msg
	case errors.As(err, &usage), errors.Is(err, blobber.ErrInvalidReference), errors.Is(err, blobber.ErrOffline),
		errors.Is(err, blobber.ErrInvalidOption):
		code = exitUsage
	case errors.Is(err, blobber.ErrNotFound):
		code = exitNotFound
	case errors.Is(err, blobber.ErrSymlinkPrivilege):
		msg += " (pull with --dereference-links to write the files and directories links lead to instead)"
	case errors.As(err, &helper):
		// The helper's own words are enough; what was being done is not.
		msg = helper.Error()
	case errors.Is(err, blobber.ErrUnauthorized), errors.Is(err, auth.ErrBasicCredentialNotFound):
		code = exitUnauthorized
		// oras-go's words for a basic challenge answered with no credential.
		msg = strings.Replace(msg, auth.ErrBasicCredentialNotFound.Error(), "unauthorized (the registry asks for credentials)", 1)
		msg += authHint(err)
	case errors.Is(err, blobber.ErrDigestMismatch), errors.Is(err, blobber.ErrNotEStargz),
		errors.Is(err, blobber.ErrPathTraversal), errors.Is(err, blobber.ErrLimitExceeded),
		errors.Is(err, blobber.ErrUnsupportedEntry), errors.Is(err, blobber.ErrSignature):
		code = exitIntegrity
	default:
		msg += tlsHint(err)
	}
	var trouble diffTrouble
	if code == exitError && errors.As(err, &trouble) {
		code = exitDiffTrouble // diff's 1 means "different"
	}
	fmt.Fprintf(w, "blobber: %s\n", oneLine(msg))
	var hint *suggestion
	if errors.As(err, &hint) {
		fmt.Fprintln(w, oneLine(hint.hint))
	}
	return code
}

// authHint says what to do about a registry that refused access: log in
// (naming the registry), or, when it refused the action itself (403), that
// the account may not do it there.
func authHint(err error) string {
	var refused *loginRefused
	if errors.As(err, &refused) {
		return ""
	}
	if method, u, ok := forbidden(err); ok {
		return fmt.Sprintf(" — permission denied: these credentials may not %s %s", action(method), repositoryOf(u))
	}
	var resp *errcode.ErrorResponse
	fromRegistry := errors.As(err, &resp) && resp.URL != nil && strings.HasPrefix(resp.URL.Path, "/v2/")
	var ac *authContext
	switch {
	case errors.As(err, &ac) && ac.stored:
		why := "wrong or expired"
		if fromRegistry && resp.URL.Path != "/v2/" {
			why += ", or without permission to " + action(resp.Method) + " " + repositoryOf(resp.URL)
		}
		return fmt.Sprintf(" — the registry refused the credentials stored for %s (%s): log in again with `blobber login %s`", ac.host, why, ac.host)
	case ac != nil:
		return fmt.Sprintf(" — no credentials are stored for %s: log in with `blobber login %s` (or `docker login %s`)", ac.host, ac.host, ac.host)
	case fromRegistry:
		return fmt.Sprintf(" — log in with `blobber login %s`, or check your credentials", resp.URL.Host)
	}
	return " — log in with `blobber login REGISTRY`, or check your credentials"
}

// action is what a request of method does to a repository.
func action(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead:
		return "pull from"
	case http.MethodDelete:
		return "delete from"
	}
	return "push to"
}

// forbidden finds a 403 answer in err: the request's method and URL.
func forbidden(err error) (method string, u *url.URL, ok bool) {
	var resp *errcode.ErrorResponse
	if errors.As(err, &resp) && resp.StatusCode == http.StatusForbidden && resp.URL != nil {
		return resp.Method, resp.URL, true
	}
	return "", nil, false
}

// repositoryOf is "host/name" for a registry API URL (/v2/<name>/blobs/…,
// /manifests/…, /tags/list, /referrers/…).
func repositoryOf(u *url.URL) string {
	name := strings.TrimPrefix(u.Path, "/v2/")
	for _, sep := range []string{"/blobs/", "/manifests/", "/tags/", "/referrers/"} {
		if i := strings.LastIndex(name, sep); i >= 0 {
			return u.Host + "/" + name[:i]
		}
	}
	return u.Host
}

// tlsHint says how to get past a TLS failure.
func tlsHint(err error) string {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		op       *net.OpError
	)
	switch {
	case errors.As(err, &unknown), errors.As(err, &invalid):
		return " — pass --ca-file CA.pem, or --insecure to skip verification"
	case errors.As(err, &hostname):
		return " — the certificate does not name this host; pass --insecure to skip verification"
	case errors.As(err, &op) && op.Op == "remote error" && strings.Contains(op.Err.Error(), "certificate"):
		return " — the registry wants a client certificate it trusts: pass --cert-file and --key-file"
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return " — the registry speaks plain HTTP: pass --plain-http"
	}
	// An HTTPS server answers plain HTTP with 400 Bad Request.
	var resp *errcode.ErrorResponse
	if errors.As(err, &resp) && resp.StatusCode == http.StatusBadRequest && resp.URL != nil && resp.URL.Scheme == "http" {
		return " — if the registry speaks HTTPS, drop --plain-http"
	}
	return ""
}
