package blobber_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
)

// A signature whose bundle the registry fails to serve is listed with the
// registry's error worded and classified as any other registry error is
// (ErrNotFound), not as a malformed signature.
func TestSignatureBundleFetchErrorIsClassified(t *testing.T) {
	ctx := context.Background()
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	key := newP256(t)
	ref := proxy.Host() + "/sig/bundle-fetch:v1"
	if _, err := sigClient(t, blobber.WithSigner(keySigner(t, key))).Push(ctx, ref, signedTree); err != nil {
		t.Fatal(err)
	}
	// Listing signatures fetches manifests and then the bundle, the only blob.
	proxy.SetFaults(func(r *http.Request) *registrytest.Fault {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/") {
			return &registrytest.Fault{Status: http.StatusNotFound, Header: http.Header{"Content-Type": {"application/json"}},
				Body: []byte(`{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}`)}
		}
		return nil
	})
	_, sigs, err := sigClient(t, blobber.WithVerifier(keyVerifier(t, key))).Signatures(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(sigs) != 1 {
		t.Fatalf("%d signatures, want 1", len(sigs))
	}
	got := sigs[0].Err
	if !errors.Is(got, blobber.ErrNotFound) {
		t.Fatalf("bundle fetch error %v does not match ErrNotFound", got)
	}
	if msg := got.Error(); !strings.HasPrefix(msg, "fetching signature bundle sha256:") || !strings.HasSuffix(msg, ": not found") {
		t.Fatalf("bundle fetch error reads %q", msg)
	}
}
