package transport

import (
	"encoding/json"
	"io"
	"net/http"

	"oras.land/oras-go/v2/registry/remote/errcode"
)

// maxErrorBytes bounds what is read of an error body, as oras-go bounds it.
const maxErrorBytes = 8 << 10

// ErrorResponse decodes a registry's unexpected answer as oras-go does
// (its errutil.ParseErrorResponse): the request's method and URL, the
// status, and the registry's error codes and messages when the body holds
// them, so that every registry error looks the same whichever code met it.
func ErrorResponse(resp *http.Response) *errcode.ErrorResponse {
	e := &errcode.ErrorResponse{StatusCode: resp.StatusCode}
	if resp.Request != nil {
		e.Method, e.URL = resp.Request.Method, resp.Request.URL
	}
	var body struct {
		Errors errcode.Errors `json:"errors"`
	}
	if json.NewDecoder(io.LimitReader(resp.Body, maxErrorBytes)).Decode(&body) == nil {
		e.Errors = body.Errors
	}
	return e
}
