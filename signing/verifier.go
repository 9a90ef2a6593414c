package signing

import (
	"context"
	"crypto"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/blobber-dev/blobber"
)

// Policy says which signatures to accept. Its fields are named after
// cosign verify's flags (in parentheses). Give either Key, or a certificate
// identity and issuer (exact or regular expression) with TrustedRoot;
// NewVerifier refuses a policy that cannot work with a *PolicyError.
type Policy struct {
	// Key accepts signatures made with its private key (--key).
	Key crypto.PublicKey

	// Keyless signatures: the certificate's subject (an email or URI) and
	// the OIDC issuer that vouched for it.
	CertificateIdentity         string // --certificate-identity
	CertificateIdentityRegexp   string // --certificate-identity-regexp
	CertificateOIDCIssuer       string // --certificate-oidc-issuer
	CertificateOIDCIssuerRegexp string // --certificate-oidc-issuer-regexp

	// TrustedRoot holds the Fulcio CAs, Rekor and CT log keys and timestamp
	// authorities to trust (--trusted-root; see LoadTrustedRoot). It is
	// required for keyless signatures, and for a key with a transparency
	// log or signed timestamps.
	TrustedRoot root.TrustedMaterial
	// FetchTrustedRoot, used when TrustedRoot is nil, gets the trusted root
	// when a signature first needs it (root.FetchTrustedRoot for
	// Sigstore's public instance), so that a policy whose signatures need
	// no root, or a signature refused on its face, costs no network
	// request.
	FetchTrustedRoot func() (root.TrustedMaterial, error)

	// InsecureIgnoreTlog accepts signatures that are not in a transparency
	// log (--insecure-ignore-tlog). Without it, a signature needs a log
	// entry that verifies against TrustedRoot.
	InsecureIgnoreTlog bool
	// InsecureIgnoreSCT accepts certificates without a certificate
	// transparency timestamp (--insecure-ignore-sct).
	InsecureIgnoreSCT bool
	// UseSignedTimestamps requires an RFC 3161 timestamp from a timestamp
	// authority in TrustedRoot, and checks certificates at that time
	// (--use-signed-timestamps).
	UseSignedTimestamps bool
}

// LoadTrustedRoot reads a Sigstore trusted root (trusted_root.json, the
// format of `cosign trusted-root create` and Sigstore's TUF repository).
func LoadTrustedRoot(path string) (*root.TrustedRoot, error) {
	return root.NewTrustedRootFromPath(path)
}

// Verifier checks signatures against a Policy. It implements
// blobber.Verifier.
type Verifier struct {
	policy   Policy
	identity verify.PolicyOption
	// verifier builds sigstore-go's verifier once, when first needed: it
	// may have to fetch the trusted root.
	verifier func() (*verify.Verifier, error)
}

var _ blobber.Verifier = (*Verifier)(nil)

// NewVerifier checks the policy and returns its verifier.
func NewVerifier(p Policy) (*Verifier, error) {
	keyless := p.CertificateIdentity != "" || p.CertificateIdentityRegexp != "" ||
		p.CertificateOIDCIssuer != "" || p.CertificateOIDCIssuerRegexp != ""
	var (
		material func() (root.TrustedMaterial, error)
		opts     []verify.VerifierOption
		v        = &Verifier{policy: p}
	)
	needRoot := !p.InsecureIgnoreTlog || p.UseSignedTimestamps
	switch {
	case p.Key != nil && keyless:
		return nil, policyError("a key and a certificate identity: give one, not both")
	case p.Key != nil:
		sv, err := signature.LoadDefaultVerifier(p.Key)
		if err != nil {
			return nil, fmt.Errorf("verification key: %v", err)
		}
		keyMaterial := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) {
			return root.NewExpiringKey(sv, time.Time{}, time.Time{}), nil
		})
		material = func() (root.TrustedMaterial, error) { return keyMaterial, nil }
		if needRoot {
			if p.TrustedRoot == nil && p.FetchTrustedRoot == nil {
				if p.UseSignedTimestamps {
					return nil, policyError("signed timestamps need a trusted root", "TrustedRoot")
				}
				return nil, policyError("a transparency log needs a trusted root", "TrustedRoot", "InsecureIgnoreTlog")
			}
			material = func() (root.TrustedMaterial, error) {
				tr, err := p.trustedRoot()
				if err != nil {
					return nil, err
				}
				return root.TrustedMaterialCollection{keyMaterial, tr}, nil
			}
		}
		v.identity = verify.WithKey()
		switch {
		case p.UseSignedTimestamps:
			opts = append(opts, verify.WithSignedTimestamps(1))
		case !p.InsecureIgnoreTlog:
			opts = append(opts, verify.WithIntegratedTimestamps(1))
		default:
			opts = append(opts, verify.WithNoObserverTimestamps())
		}
	case keyless:
		if p.CertificateIdentity == "" && p.CertificateIdentityRegexp == "" {
			return nil, policyError("a certificate identity is required", "CertificateIdentity", "CertificateIdentityRegexp")
		}
		if p.CertificateOIDCIssuer == "" && p.CertificateOIDCIssuerRegexp == "" {
			return nil, policyError("a certificate OIDC issuer is required", "CertificateOIDCIssuer", "CertificateOIDCIssuerRegexp")
		}
		if p.TrustedRoot == nil && p.FetchTrustedRoot == nil {
			return nil, policyError("keyless signatures need a trusted root", "TrustedRoot")
		}
		material = p.trustedRoot
		id, err := verify.NewShortCertificateIdentity(p.CertificateOIDCIssuer, p.CertificateOIDCIssuerRegexp,
			p.CertificateIdentity, p.CertificateIdentityRegexp)
		if err != nil {
			return nil, fmt.Errorf("verification policy: %v", err)
		}
		v.identity = verify.WithCertificateIdentity(id)
		if !p.InsecureIgnoreSCT {
			opts = append(opts, verify.WithSignedCertificateTimestamps(1))
		}
		switch {
		case p.UseSignedTimestamps:
			opts = append(opts, verify.WithSignedTimestamps(1))
		case !p.InsecureIgnoreTlog:
			opts = append(opts, verify.WithIntegratedTimestamps(1))
		default:
			// Nothing vouches for when the signature was made: the
			// short-lived certificate must be valid now.
			opts = append(opts, verify.WithCurrentTime())
		}
	default:
		return nil, policyError("give a public key, or a certificate identity and issuer", "Key", "CertificateIdentity")
	}
	if !p.InsecureIgnoreTlog {
		opts = append(opts, verify.WithTransparencyLog(1))
	}
	v.verifier = sync.OnceValues(func() (*verify.Verifier, error) {
		tm, err := material()
		if err != nil {
			return nil, err
		}
		sv, err := verify.NewVerifier(tm, opts...)
		if err != nil {
			return nil, fmt.Errorf("verification policy: %v", err)
		}
		return sv, nil
	})
	if p.TrustedRoot != nil || !needRoot && p.Key != nil {
		// Nothing to fetch: a policy that cannot work says so now.
		if _, err := v.verifier(); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// trustedRoot is the policy's trusted root, fetched if need be.
func (p *Policy) trustedRoot() (root.TrustedMaterial, error) {
	if p.TrustedRoot != nil {
		return p.TrustedRoot, nil
	}
	return p.FetchTrustedRoot()
}

// Verify checks that raw, a Sigstore bundle's JSON, is a cosign signature
// of manifest that the policy accepts, and says who signed it.
func (v *Verifier) Verify(_ context.Context, manifest ocispec.Descriptor, raw []byte) (string, error) {
	var b bundle.Bundle
	if err := b.UnmarshalJSON(raw); err != nil {
		return "", fmt.Errorf("malformed bundle: %v", err)
	}
	if b.GetDsseEnvelope() == nil {
		return "", errors.New("bundle does not contain a DSSE envelope")
	}
	want, err := hex.DecodeString(manifest.Digest.Encoded())
	if err != nil || manifest.Digest.Algorithm() != "sha256" {
		return "", fmt.Errorf("manifest digest %s: only sha256 is supported", manifest.Digest)
	}
	if v.policy.Key != nil && !v.policy.InsecureIgnoreTlog && len(b.GetVerificationMaterial().GetTlogEntries()) == 0 {
		// Refused on its face, before the trusted root is fetched.
		return "", &NoTlogEntryError{}
	}
	sv, err := v.verifier()
	if err != nil {
		return "", err
	}
	res, err := sv.Verify(&b, verify.NewPolicy(verify.WithArtifactDigest("sha256", want), v.identity))
	if err != nil {
		return "", explain(err)
	}
	if res.Statement == nil || res.Statement.GetPredicateType() != blobber.CosignSignPredicateType {
		return "", fmt.Errorf("not a cosign signature (predicate type %q)", res.Statement.GetPredicateType())
	}
	if res.Signature != nil && res.Signature.Certificate != nil {
		c := res.Signature.Certificate
		return fmt.Sprintf("%s (issuer %s)", c.SubjectAlternativeName, c.Issuer), nil
	}
	return "key " + KeyID(v.policy.Key), nil
}

// explain makes sigstore-go's error say what went wrong in a user's terms.
func explain(err error) error {
	var idErr *verify.ErrNoMatchingCertificateIdentity
	msg := err.Error()
	switch {
	case errors.As(err, &idErr):
		return fmt.Errorf("wrong identity: %v", err)
	case strings.Contains(msg, "certificate has expired or is not yet valid"),
		strings.Contains(msg, "outside certificate validity"),
		strings.Contains(msg, "x509: certificate has expired"):
		return fmt.Errorf("certificate expired (or not yet valid) at the signature's time: %v", err)
	case strings.Contains(msg, "failed to verify signature"), strings.Contains(msg, "could not verify envelope"),
		strings.Contains(msg, "verification failure"):
		return fmt.Errorf("signature does not verify (wrong key, or tampered with): %v", err)
	case strings.Contains(msg, "artifact digest") || strings.Contains(msg, "provided artifact digests"):
		return fmt.Errorf("the signature is for another artifact: %v", err)
	}
	return err
}
