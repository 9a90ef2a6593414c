package blobber

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"

	"oras.land/oras-go/v2/registry/remote/errcode"
)

// uploadFailed tells a failure of the request that carried a blob's bytes
// (the PUT of a monolithic upload) from a failure of the requests around
// it, which the transport retried already.
func uploadFailed(err error) bool {
	var resp *errcode.ErrorResponse
	if errors.As(err, &resp) {
		return resp.Method == http.MethodPut
	}
	var ue *url.Error
	return errors.As(err, &ue) && ue.Op == "Put"
}

// digestInvalid: the registry found that the bytes it received do not
// match the digest the upload named (DIGEST_INVALID).
func digestInvalid(err error) bool {
	var resp *errcode.ErrorResponse
	if !errors.As(err, &resp) {
		return false
	}
	for _, e := range resp.Errors {
		if e.Code == errcode.ErrorCodeDigestInvalid {
			return true
		}
	}
	return false
}

// stagingError makes an error from the staged layer's file (a full
// temporary directory, say) name the directory, which the user can change,
// rather than a temporary name that is gone when they read it.
func stagingError(err error) error {
	var pe *fs.PathError
	if !errors.As(err, &pe) || !strings.HasPrefix(filepath.Base(pe.Path), strings.TrimSuffix(stagedLayerPattern, "*")) {
		return err
	}
	return fmt.Errorf("staging the layer in %s (set TMPDIR to stage it elsewhere): %w", filepath.Dir(pe.Path), pe.Err)
}
