package signing_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/blobber-dev/blobber/signing"
)

// TestPolicyErrorsSpeakTheLibrarysLanguage: a policy that cannot work is a
// *PolicyError naming Policy fields, never a command line's flags.
func TestPolicyErrorsSpeakTheLibrarysLanguage(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key := priv.Public()
	for name, tc := range map[string]struct {
		policy signing.Policy
		fields []string
	}{
		"empty":                    {signing.Policy{}, []string{"Key", "CertificateIdentity"}},
		"key and identity":         {signing.Policy{Key: key, CertificateIdentity: "a@b.c", CertificateOIDCIssuer: "x"}, nil},
		"key, log, no root":        {signing.Policy{Key: key}, []string{"TrustedRoot", "InsecureIgnoreTlog"}},
		"key, timestamps, no root": {signing.Policy{Key: key, InsecureIgnoreTlog: true, UseSignedTimestamps: true}, []string{"TrustedRoot"}},
		"identity without issuer":  {signing.Policy{CertificateIdentity: "a@b.c"}, []string{"CertificateOIDCIssuer", "CertificateOIDCIssuerRegexp"}},
		"issuer without identity":  {signing.Policy{CertificateOIDCIssuerRegexp: "."}, []string{"CertificateIdentity", "CertificateIdentityRegexp"}},
		"keyless without a root":   {signing.Policy{CertificateIdentity: "a@b.c", CertificateOIDCIssuer: "x"}, []string{"TrustedRoot"}},
	} {
		_, err := signing.NewVerifier(tc.policy)
		var pe *signing.PolicyError
		if !errors.As(err, &pe) {
			t.Errorf("%s: %v, want a *PolicyError", name, err)
			continue
		}
		if !slices.Equal(pe.Fields, tc.fields) {
			t.Errorf("%s: fields %q, want %q", name, pe.Fields, tc.fields)
		}
		for _, f := range pe.Fields {
			if _, ok := reflect.TypeFor[signing.Policy]().FieldByName(f); !ok {
				t.Errorf("%s: %q is not a field of Policy", name, f)
			}
		}
		if strings.Contains(err.Error(), "--") {
			t.Errorf("%s: %q names a flag", name, err)
		}
	}
}
