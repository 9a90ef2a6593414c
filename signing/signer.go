// Package signing signs and verifies Blobber artifacts with Sigstore, in
// the format cosign v3 writes: a Sigstore bundle holding a DSSE envelope
// around an in-toto statement about the manifest digest. Its Signer and
// Verifier plug into blobber.WithSigner and blobber.WithVerifier; programs
// that do not sign never link Sigstore's libraries.
package signing

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/sign"

	"github.com/blobber-dev/blobber"
)

// Sigstore's public-good instances, the defaults of keyless signing.
const (
	PublicFulcioURL = "https://fulcio.sigstore.dev"
	PublicRekorURL  = "https://rekor.sigstore.dev"
)

// Timestamper gets an RFC 3161 timestamp over a signature from a
// timestamp authority. *sign.TimestampAuthority is one.
type Timestamper interface {
	GetTimestamp(ctx context.Context, signature []byte) ([]byte, error)
}

type config struct {
	fulcioURL   string
	certs       sign.CertificateProvider
	rekorURLs   []string
	tlogs       []sign.Transparency
	timestamps  []Timestamper
	transport   http.RoundTripper
	trustedRoot root.TrustedMaterial
	noTlog      bool
}

// Option configures a Signer.
type Option func(*config)

// WithRekor records each signature in the Rekor transparency log at url
// (Rekor v1 API). Key-based signing uses no log unless asked.
func WithRekor(url string) Option {
	return func(c *config) { c.rekorURLs = append(c.rekorURLs, url) }
}

// WithTransparencyLog records each signature in log (for logs other than
// a Rekor URL: tests, private deployments).
func WithTransparencyLog(log sign.Transparency) Option {
	return func(c *config) { c.tlogs = append(c.tlogs, log) }
}

// WithoutTransparencyLog keeps keyless signatures out of the transparency
// log (cosign's --tlog-upload=false): verifiers must then rely on signed
// timestamps, or on the current time while the certificate lasts.
func WithoutTransparencyLog() Option { return func(c *config) { c.noTlog = true } }

// WithTimestampAuthority adds an RFC 3161 timestamp from the timestamp
// authority at url (its full endpoint, e.g. https://timestamp.sigstore.dev/api/v1/timestamp).
func WithTimestampAuthority(url string) Option {
	return func(c *config) {
		c.timestamps = append(c.timestamps, sign.NewTimestampAuthority(&sign.TimestampAuthorityOptions{URL: url, Transport: c.transport}))
	}
}

// WithTimestamper adds an RFC 3161 timestamp from t.
func WithTimestamper(t Timestamper) Option {
	return func(c *config) { c.timestamps = append(c.timestamps, t) }
}

// WithFulcio gets keyless certificates from the Fulcio instance at url
// instead of Sigstore's public one.
func WithFulcio(url string) Option { return func(c *config) { c.fulcioURL = url } }

// WithCertificateProvider gets keyless certificates from p instead of
// Fulcio (tests, private CAs).
func WithCertificateProvider(p sign.CertificateProvider) Option {
	return func(c *config) { c.certs = p }
}

// WithHTTPTransport sets the transport used to reach Fulcio, Rekor and
// timestamp authorities (give it before WithTimestampAuthority).
func WithHTTPTransport(rt http.RoundTripper) Option { return func(c *config) { c.transport = rt } }

// WithSelfCheck verifies each new bundle against trusted material (the
// trusted root of the Sigstore deployment used) before it is attached.
func WithSelfCheck(tm root.TrustedMaterial) Option { return func(c *config) { c.trustedRoot = tm } }

// Signer signs manifests in cosign's format. It implements blobber.Signer.
type Signer struct {
	keypair  sign.Keypair
	idToken  string
	keyless  bool
	opts     sign.BundleOptions
	tstamps  []Timestamper
	identity string // for messages: the key's ID
}

var _ blobber.Signer = (*Signer)(nil)

// NewKeySigner signs with priv (see LoadKey). No transparency log is used
// unless WithRekor or WithTransparencyLog is given.
func NewKeySigner(priv crypto.Signer, opts ...Option) (*Signer, error) {
	kp, err := newKeypair(priv)
	if err != nil {
		return nil, err
	}
	c := newConfig(opts)
	s := &Signer{keypair: kp, identity: "key " + KeyID(priv.Public())}
	s.setup(c)
	return s, nil
}

// NewKeylessSigner signs with a fresh key whose short-lived certificate
// Fulcio issues for the identity in idToken (an OIDC ID token), and
// records the signature in Rekor. Without options these are Sigstore's
// public instances; WithFulcio, WithRekor and WithTimestampAuthority
// choose others.
func NewKeylessSigner(idToken string, opts ...Option) (*Signer, error) {
	c := newConfig(opts)
	if c.certs == nil {
		if idToken == "" {
			return nil, errors.New("keyless signing needs an OIDC identity token")
		}
		url := c.fulcioURL
		if url == "" {
			url = PublicFulcioURL
		}
		c.certs = sign.NewFulcio(&sign.FulcioOptions{BaseURL: url, Retries: 2, Transport: c.transport})
	}
	if len(c.rekorURLs) == 0 && len(c.tlogs) == 0 && !c.noTlog {
		c.rekorURLs = []string{PublicRekorURL}
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	kp, err := newKeypair(priv)
	if err != nil {
		return nil, err
	}
	s := &Signer{keypair: kp, idToken: idToken, keyless: true, identity: "keyless"}
	s.setup(c)
	s.opts.CertificateProvider = c.certs
	s.opts.CertificateProviderOptions = &sign.CertificateProviderOptions{IDToken: idToken}
	return s, nil
}

func newConfig(opts []Option) *config {
	c := &config{}
	for _, o := range opts {
		o(c)
	}
	return c
}

func (s *Signer) setup(c *config) {
	for _, url := range c.rekorURLs {
		s.opts.TransparencyLogs = append(s.opts.TransparencyLogs, sign.NewRekor(&sign.RekorOptions{BaseURL: url, Retries: 2}))
	}
	s.opts.TransparencyLogs = append(s.opts.TransparencyLogs, c.tlogs...)
	if c.noTlog {
		s.opts.TransparencyLogs = nil
	}
	s.tstamps = c.timestamps
	s.opts.TrustedRoot = c.trustedRoot
}

// Statement is the in-toto statement cosign v3 signs for an image: the
// manifest digest as the subject, cosign's predicate type, an empty
// predicate.
func Statement(manifest ocispec.Descriptor) ([]byte, error) {
	if err := manifest.Digest.Validate(); err != nil {
		return nil, fmt.Errorf("manifest digest: %v", err)
	}
	type subject struct {
		Digest map[string]string `json:"digest"`
	}
	return json.Marshal(struct {
		Type          string         `json:"_type"`
		Subject       []subject      `json:"subject"`
		PredicateType string         `json:"predicateType"`
		Predicate     map[string]any `json:"predicate"`
	}{
		Type:          blobber.InTotoStatementType,
		Subject:       []subject{{Digest: map[string]string{manifest.Digest.Algorithm().String(): manifest.Digest.Encoded()}}},
		PredicateType: blobber.CosignSignPredicateType,
		Predicate:     map[string]any{},
	})
}

// Sign returns a Sigstore bundle v0.3 (JSON) signing manifest's digest.
func (s *Signer) Sign(ctx context.Context, manifest ocispec.Descriptor) ([]byte, error) {
	payload, err := Statement(manifest)
	if err != nil {
		return nil, err
	}
	opts := s.opts
	opts.Context = ctx
	if len(s.tstamps) > 0 && opts.TrustedRoot != nil {
		// The self-check would run before the timestamps are added.
		opts.TrustedRoot = nil
	}
	pb, err := sign.Bundle(&sign.DSSEData{Data: payload, PayloadType: blobber.InTotoPayloadType}, s.keypair, opts)
	if err != nil {
		return nil, err
	}
	if len(s.tstamps) > 0 {
		sig := pb.GetDsseEnvelope().GetSignatures()[0].GetSig()
		vm := pb.VerificationMaterial
		if vm.TimestampVerificationData == nil {
			vm.TimestampVerificationData = &protobundle.TimestampVerificationData{}
		}
		for _, t := range s.tstamps {
			ts, err := t.GetTimestamp(ctx, sig)
			if err != nil {
				return nil, fmt.Errorf("timestamp: %w", err)
			}
			vm.TimestampVerificationData.Rfc3161Timestamps = append(vm.TimestampVerificationData.Rfc3161Timestamps,
				&protocommon.RFC3161SignedTimestamp{SignedTimestamp: ts})
		}
	}
	b, err := bundle.NewBundle(pb)
	if err != nil {
		return nil, err
	}
	return b.MarshalJSON()
}
