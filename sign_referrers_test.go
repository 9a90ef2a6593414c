package blobber_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
)

// On a registry with the OCI 1.1 referrers API the signature is found
// through the API, and no sha256-<hex> fallback tag is written.
func TestSignaturesThroughTheReferrersAPI(t *testing.T) {
	ctx := context.Background()
	reg := registrytest.Start(t, registrytest.WithReferrersAPI())
	proxy := reg.CountingProxy(t)
	seen := watchRequests(proxy)
	key := newP256(t)
	ref := proxy.Host() + "/sig/referrers:v1"
	desc, err := sigClient(t, blobber.WithSigner(keySigner(t, key))).Push(ctx, ref, signedTree)
	if err != nil {
		t.Fatal(err)
	}
	repo := repository(t, proxy.Host(), "sig/referrers")
	if _, err := repo.Resolve(ctx, "sha256-"+desc.Digest.Encoded()); err == nil {
		t.Fatal("a referrers-API registry got the tag-schema fallback tag too")
	}

	c := sigClient(t, blobber.WithVerifier(keyVerifier(t, key)))
	wantSignedContent(t, c, ref)
	usedAPI := false
	for _, r := range seen() {
		usedAPI = usedAPI || strings.Contains(r, "/referrers/")
	}
	if !usedAPI {
		t.Fatal("verification did not ask the referrers API")
	}

	_, err = sigClient(t, blobber.WithVerifier(keyVerifier(t, newP256(t)))).Open(ctx, ref)
	if !errors.Is(err, blobber.ErrSignature) {
		t.Fatalf("wrong key through the referrers API: %v", err)
	}
}
