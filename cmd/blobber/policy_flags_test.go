package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"reflect"
	"testing"

	"github.com/blobber-dev/blobber/signing"
)

// TestPolicyFlags: every field of signing.Policy that a refusal can name
// has its flag, and the CLI's message names the flags.
func TestPolicyFlags(t *testing.T) {
	for f := range reflect.TypeFor[signing.Policy]().Fields() {
		if policyFlag(f.Name) == "" {
			t.Errorf("no flag sets signing.Policy.%s", f.Name)
		}
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, err = signing.NewVerifier(signing.Policy{Key: priv.Public()})
	want := "verification policy: a transparency log needs a trusted root: pass --trusted-root or --insecure-ignore-tlog"
	if got := withPolicyFlags(err); got == nil || got.Error() != want {
		t.Errorf("got %v, want %q", got, want)
	}
	_, err = signing.NewVerifier(signing.Policy{Key: priv.Public(), CertificateIdentity: "a@b.c", CertificateOIDCIssuer: "x"})
	want = "verification policy: a key and a certificate identity: give one, not both"
	if got := withPolicyFlags(err); got == nil || got.Error() != want {
		t.Errorf("got %v, want %q", got, want)
	}
	plain := errors.New("other")
	if withPolicyFlags(plain) != plain {
		t.Error("an error that is not a policy's was changed")
	}
}
