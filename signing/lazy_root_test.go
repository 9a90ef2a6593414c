package signing_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/blobber-dev/blobber/signing"
)

// TestKeySignatureWithoutTlogIsRefusedBeforeFetchingTheRoot: a key
// signature with no transparency-log entry, under a policy that wants one,
// is refused for exactly that reason without fetching the trusted root.
func TestKeySignatureWithoutTlogIsRefusedBeforeFetchingTheRoot(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := signing.NewKeySigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	manifest := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("manifest"), Size: 8}
	ctx := context.Background()
	bundle, err := signer.Sign(ctx, manifest)
	if err != nil {
		t.Fatal(err)
	}
	fetches := 0
	fetch := func() (root.TrustedMaterial, error) {
		fetches++
		return nil, errors.New("no network in this test")
	}

	v, err := signing.NewVerifier(signing.Policy{Key: priv.Public(), FetchTrustedRoot: fetch})
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(ctx, manifest, bundle)
	var noTlog *signing.NoTlogEntryError
	if !errors.As(err, &noTlog) {
		t.Fatalf("Verify: %v, want a *NoTlogEntryError", err)
	}
	if want := "the signature has no transparency-log entry; set InsecureIgnoreTlog to accept key signatures without one"; err.Error() != want {
		t.Errorf("Verify: %q, want %q", err, want)
	}
	if fetches != 0 {
		t.Errorf("the trusted root was fetched %d times", fetches)
	}

	v, err = signing.NewVerifier(signing.Policy{Key: priv.Public(), InsecureIgnoreTlog: true, FetchTrustedRoot: fetch})
	if err != nil {
		t.Fatal(err)
	}
	if who, err := v.Verify(ctx, manifest, bundle); err != nil || !strings.HasPrefix(who, "key ") {
		t.Errorf("Verify with InsecureIgnoreTlog: %q, %v", who, err)
	}
	if fetches != 0 {
		t.Errorf("the trusted root was fetched %d times", fetches)
	}
}

// TestTrustedRootIsFetchedWhenASignatureNeedsIt: a policy that needs the
// root gets it on the first signature that needs it, once, and a failed
// fetch is the verification's error.
func TestTrustedRootIsFetchedWhenASignatureNeedsIt(t *testing.T) {
	fetches := 0
	v, err := signing.NewVerifier(signing.Policy{
		CertificateIdentity: "a@b.c", CertificateOIDCIssuer: "https://issuer",
		FetchTrustedRoot: func() (root.TrustedMaterial, error) {
			fetches++
			return nil, errors.New("offline")
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if fetches != 0 {
		t.Fatalf("NewVerifier fetched the trusted root")
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := signing.NewKeySigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	manifest := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("m"), Size: 1}
	bundle, err := signer.Sign(context.Background(), manifest)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := v.Verify(context.Background(), manifest, bundle); err == nil || !strings.Contains(err.Error(), "offline") {
			t.Errorf("Verify: %v, want the fetch's error", err)
		}
	}
	if fetches != 1 {
		t.Errorf("fetched %d times, want once", fetches)
	}
}
