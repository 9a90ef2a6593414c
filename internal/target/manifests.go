package target

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"

	digest "github.com/opencontainers/go-digest"

	"github.com/blobber-dev/blobber/internal/errdef"
)

// ErrDigestMismatch: a registry sent a manifest that does not match the
// digest it was asked for.
var ErrDigestMismatch = errdef.ErrDigestMismatch

// maxCheckedManifest is the largest manifest checked here, oras-go's own
// bound on what it reads of one (its default MaxMetadataBytes).
const maxCheckedManifest = 4 << 20

// checkManifests checks every manifest fetched by digest against that
// digest as it arrives, so that other content fails as a mismatch however
// the registry dressed it up: oras-go checks a Docker-Content-Digest header
// or a Content-Length that disagrees with the descriptor too, but says so
// in words only, and callers cannot tell those failures from others.
type checkManifests struct{ next http.RoundTripper }

func (c checkManifests) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil || req.Method != http.MethodGet || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	want, ok := manifestDigest(req.URL.Path)
	if !ok {
		return resp, nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxCheckedManifest+1))
	if err != nil {
		resp.Body.Close()
		return nil, err
	}
	if len(body) > maxCheckedManifest {
		// Too big to be a manifest: oras-go refuses it.
		resp.Body = readCloser{io.MultiReader(bytes.NewReader(body), resp.Body), resp.Body}
		return resp, nil
	}
	resp.Body.Close()
	if got := want.Algorithm().FromBytes(body); got != want {
		return nil, fmt.Errorf("the registry sent a manifest whose digest is %s: %w", got, ErrDigestMismatch)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// manifestDigest is the digest of a /v2/<name>/manifests/<digest> path.
func manifestDigest(path string) (digest.Digest, bool) {
	rest, ok := strings.CutPrefix(path, "/v2/")
	i := strings.LastIndex(rest, "/manifests/")
	if !ok || i < 0 {
		return "", false
	}
	d, err := digest.Parse(rest[i+len("/manifests/"):])
	if err != nil || !d.Algorithm().Available() {
		return "", false
	}
	return d, true
}

type readCloser struct {
	io.Reader
	io.Closer
}
