package target

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	digest "github.com/opencontainers/go-digest"
)

func TestManifestDigest(t *testing.T) {
	d := digest.FromString("m")
	for path, want := range map[string]digest.Digest{
		"/v2/team/app/manifests/" + d.String():           d,
		"/v2/manifests/manifests/" + d.String():          d,
		"/v2/team/app/manifests/v1":                      "",
		"/v2/team/app/blobs/" + d.String():               "",
		"/v2/team/app/manifests/sha256-" + d.Encoded():   "",
		"/v2/team/app/manifests/sha256:abc":              "",
		"/elsewhere/team/app/manifests/" + d.String():    "",
		"/v2/team/app/manifests/unknown:" + d.Encoded():  "",
		"/v2/team/app/manifests/" + d.String() + "/more": "",
	} {
		got, ok := manifestDigest(path)
		if got != want || ok != (want != "") {
			t.Errorf("manifestDigest(%q) = %q, %v; want %q", path, got, ok, want)
		}
	}
}

// A manifest asked for by digest arrives checked against it; anything
// else passes through untouched.
func TestCheckManifests(t *testing.T) {
	manifest := []byte(`{"schemaVersion":2}`)
	good := digest.FromBytes(manifest)
	bad := digest.FromString("another")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(manifest)
	}))
	defer srv.Close()
	client := &http.Client{Transport: checkManifests{http.DefaultTransport}}
	get := func(path string) ([]byte, error) {
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		return io.ReadAll(resp.Body)
	}
	for _, path := range []string{"/v2/app/manifests/" + good.String(), "/v2/app/manifests/v1", "/v2/app/blobs/" + bad.String()} {
		if body, err := get(path); err != nil || !bytes.Equal(body, manifest) {
			t.Errorf("%s: %q, %v", path, body, err)
		}
	}
	if _, err := get("/v2/app/manifests/" + bad.String()); !errors.Is(err, ErrDigestMismatch) {
		t.Errorf("a manifest that does not match: %v, want ErrDigestMismatch", err)
	}
}
