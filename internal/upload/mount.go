package upload

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	digest "github.com/opencontainers/go-digest"
)

// MountOnly asks the registry to mount the blob dgst into the repository
// whose API base is repoURL from the repository from, of the same
// registry (POST /blobs/uploads/?mount=<digest>&from=<repository>), and
// reports whether it did (201 Created). A registry that cannot mount it
// opens an upload session instead (202 Accepted): that session is
// cancelled (DELETE), for a caller whose bytes are to go up some other
// way, or not at all. oras-go's Repository.Mount leaves it open when it
// is given no content, until the registry expires it (Distribution: after
// a week).
func MountOnly(ctx context.Context, client Doer, repoURL string, dgst digest.Digest, from string) (bool, error) {
	u, err := newUploader(ctx, client, repoURL)
	if err != nil {
		return false, err
	}
	q := url.Values{"mount": {dgst.String()}, "from": {from}}
	resp, err := u.do(http.MethodPost, repoURL+"/blobs/uploads/?"+q.Encode())
	if err != nil {
		return false, err
	}
	switch resp.StatusCode {
	case http.StatusCreated:
		drain(resp)
		if got := resp.Header.Get("Docker-Content-Digest"); got != "" && got != dgst.String() {
			return false, fmt.Errorf("the registry mounted %s when asked for %s", got, dgst)
		}
		return true, nil
	case http.StatusAccepted:
		loc, err := u.location(resp)
		drain(resp) // before the DELETE, which may reuse its connection
		if err == nil {
			u.abandon(loc)
		}
		return false, nil
	}
	defer drain(resp)
	return false, statusError(resp)
}
