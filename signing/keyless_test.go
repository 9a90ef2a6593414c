package signing_test

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"google.golang.org/protobuf/proto"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/signing"
)

const (
	alice  = "alice@example.com"
	issuer = "https://issuer.example.com"
)

var manifest = ocispec.Descriptor{
	MediaType: ocispec.MediaTypeImageManifest,
	Digest:    digest.FromString("a manifest"),
	Size:      10,
}

// entityBundle packs what VirtualSigstore attested into a bundle v0.3.
func entityBundle(t *testing.T, vs *ca.VirtualSigstore, e *ca.TestEntity, withTlog, withTimestamps bool) []byte {
	t.Helper()
	vc, err := e.VerificationContent()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := e.SignatureContent()
	if err != nil {
		t.Fatal(err)
	}
	env := sc.EnvelopeContent().RawEnvelope()
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := base64.StdEncoding.DecodeString(env.Signatures[0].Sig)
	if err != nil {
		t.Fatal(err)
	}
	vm := &protobundle.VerificationMaterial{
		Content: &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: vc.Certificate().Raw}},
	}
	if withTlog {
		entries, _ := e.TlogEntries()
		for _, entry := range entries {
			vm.TlogEntries = append(vm.TlogEntries, protoEntry(t, vs, entry))
		}
	}
	if withTimestamps {
		ts, _ := e.Timestamps()
		vm.TimestampVerificationData = &protobundle.TimestampVerificationData{}
		for _, t := range ts {
			vm.TimestampVerificationData.Rfc3161Timestamps = append(vm.TimestampVerificationData.Rfc3161Timestamps, &protocommon.RFC3161SignedTimestamp{SignedTimestamp: t})
		}
	}
	pb := &protobundle.Bundle{
		MediaType:            blobber.BundleMediaType,
		VerificationMaterial: vm,
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload: payload, PayloadType: env.PayloadType,
			Signatures: []*protodsse.Signature{{Sig: sig}},
		}},
	}
	b, err := bundle.NewBundle(pb)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := b.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func attest(t *testing.T, vs *ca.VirtualSigstore, identity string, at time.Time) *ca.TestEntity {
	t.Helper()
	stmt, err := signing.Statement(manifest)
	if err != nil {
		t.Fatal(err)
	}
	e, err := vs.AttestAtTime(identity, issuer, stmt, at, true)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestKeylessPolicies(t *testing.T) {
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Add(time.Minute) // inside the leaf certificate's 10 minutes
	good := attest(t, vs, alice, now)
	full := entityBundle(t, vs, good, true, true)
	noTlog := entityBundle(t, vs, good, false, true)
	bare := entityBundle(t, vs, good, false, false)
	late := entityBundle(t, vs, attest(t, vs, alice, time.Now().Add(time.Hour)), true, false)
	mallory := entityBundle(t, vs, attest(t, vs, "mallory@example.com", now), true, true)

	base := signing.Policy{CertificateIdentity: alice, CertificateOIDCIssuer: issuer, TrustedRoot: vs,
		InsecureIgnoreSCT: true} // the virtual CA issues no SCTs
	with := func(f func(*signing.Policy)) signing.Policy { p := base; f(&p); return p }
	for _, tc := range []struct {
		name   string
		policy signing.Policy
		bundle []byte
		want   string // "" accepts
	}{
		{"tlog and integrated time", base, full, ""},
		{"signed timestamps", with(func(p *signing.Policy) { p.UseSignedTimestamps = true }), full, ""},
		{"identity regexp", with(func(p *signing.Policy) {
			p.CertificateIdentity, p.CertificateIdentityRegexp = "", `^alice@example\.com$`
		}), full, ""},
		{"issuer regexp", with(func(p *signing.Policy) {
			p.CertificateOIDCIssuer, p.CertificateOIDCIssuerRegexp = "", `^https://issuer\.`
		}), full, ""},
		{"wrong identity", base, mallory, "wrong identity"},
		{"wrong issuer", with(func(p *signing.Policy) { p.CertificateOIDCIssuer = "https://other.example.com" }), full, "wrong identity"},
		{"no tlog entry", base, noTlog, "log"},
		{"no tlog, signed timestamps", with(func(p *signing.Policy) { p.InsecureIgnoreTlog, p.UseSignedTimestamps = true, true }), noTlog, ""},
		{"no tlog, no timestamp: the certificate is valid now", with(func(p *signing.Policy) { p.InsecureIgnoreTlog = true }), bare, ""},
		{"signed timestamps required, none", with(func(p *signing.Policy) { p.InsecureIgnoreTlog, p.UseSignedTimestamps = true, true }), bare, "timestamp"},
		{"logged after the certificate expired", base, late, "expired"},
		{"SCT required", with(func(p *signing.Policy) { p.InsecureIgnoreSCT = false }), full, "SCT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := signing.NewVerifier(tc.policy)
			if err != nil {
				t.Fatal(err)
			}
			who, err := v.Verify(context.Background(), manifest, tc.bundle)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case tc.want == "" && !strings.Contains(who, alice):
				t.Fatalf("signer %q", who)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want an error saying %q", err, tc.want)
			}
		})
	}
	// A signature of another digest.
	other := manifest
	other.Digest = digest.FromString("another manifest")
	v, _ := signing.NewVerifier(base)
	if _, err := v.Verify(context.Background(), other, full); err == nil {
		t.Fatal("accepted a signature of another digest")
	}
}

// protoEntry completes the protobuf form of a virtual log entry with
// what tlog.Entry leaves out: the entry's kind and its inclusion promise.
func protoEntry(t *testing.T, vs *ca.VirtualSigstore, entry *tlog.Entry) *protorekor.TransparencyLogEntry {
	tle := proto.Clone(entry.TransparencyLogEntry()).(*protorekor.TransparencyLogEntry)
	tle.KindVersion = &protorekor.KindVersion{Kind: "dsse", Version: "0.0.1"}
	set, err := vs.RekorSignPayload(tlog.RekorPayload{
		Body:           base64.StdEncoding.EncodeToString(tle.CanonicalizedBody),
		IntegratedTime: tle.IntegratedTime,
		LogIndex:       tle.LogIndex,
		LogID:          hex.EncodeToString(tle.LogId.KeyId),
	})
	if err != nil && t != nil {
		t.Fatal(err)
	}
	tle.InclusionPromise = &protorekor.InclusionPromise{SignedEntryTimestamp: set}
	return tle
}

// testFulcio issues certificates for one identity from its own CA, as
// Fulcio would after checking an OIDC token.
type testFulcio struct {
	root, intermediate *x509.Certificate
	key                crypto.Signer
	identity           string
}

func newTestFulcio(t *testing.T, identity string) *testFulcio {
	rootCert, rootKey, err := ca.GenerateRootCa()
	if err != nil {
		t.Fatal(err)
	}
	inter, interKey, err := ca.GenerateFulcioIntermediate(rootCert, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	return &testFulcio{root: rootCert, intermediate: inter, key: interKey, identity: identity}
}

type publicOnly struct{ pub crypto.PublicKey }

func (p publicOnly) Public() crypto.PublicKey { return p.pub }
func (publicOnly) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("public only")
}

func (f *testFulcio) GetCertificate(_ context.Context, kp sign.Keypair, opts *sign.CertificateProviderOptions) ([]byte, error) {
	if opts == nil || opts.IDToken != "test-token" {
		return nil, errors.New("bad token")
	}
	cert, err := ca.GenerateLeafCert(f.identity, issuer, time.Now().Add(-time.Second), publicOnly{kp.GetPublicKey()}, f.intermediate, f.key)
	if err != nil {
		return nil, err
	}
	return cert.Raw, nil
}

// trusted is the trusted root: the virtual Sigstore's log and TSA, and
// testFulcio's CA.
func (f *testFulcio) trusted(vs *ca.VirtualSigstore) root.TrustedMaterial {
	return root.TrustedMaterialCollection{vs, &fulcioOnly{cas: []root.CertificateAuthority{&root.FulcioCertificateAuthority{
		Root: f.root, Intermediates: []*x509.Certificate{f.intermediate},
		ValidityPeriodStart: time.Now().Add(-time.Hour), ValidityPeriodEnd: time.Now().Add(time.Hour),
	}}}}
}

type fulcioOnly struct {
	root.BaseTrustedMaterial
	cas []root.CertificateAuthority
}

func (f *fulcioOnly) FulcioCertificateAuthorities() []root.CertificateAuthority { return f.cas }

// virtualRekor records entries in the virtual Sigstore's log.
type virtualRekor struct{ vs *ca.VirtualSigstore }

func (r virtualRekor) GetTransparencyLogEntry(_ context.Context, _ []byte, b *protobundle.Bundle) error {
	leaf, err := x509.ParseCertificate(b.GetVerificationMaterial().GetCertificate().GetRawBytes())
	if err != nil {
		return err
	}
	env := b.GetDsseEnvelope()
	sig := env.GetSignatures()[0].GetSig()
	entry, err := r.vs.GenerateTlogEntry(leaf, &dsse.Envelope{
		PayloadType: env.GetPayloadType(),
		Payload:     base64.StdEncoding.EncodeToString(env.GetPayload()),
		Signatures:  []dsse.Signature{{Sig: base64.StdEncoding.EncodeToString(sig)}},
	}, sig, time.Now().Unix(), true)
	if err != nil {
		return err
	}
	b.VerificationMaterial.TlogEntries = append(b.VerificationMaterial.TlogEntries, protoEntry(nil, r.vs, entry))
	return nil
}

type virtualTSA struct{ vs *ca.VirtualSigstore }

func (t virtualTSA) GetTimestamp(_ context.Context, sig []byte) ([]byte, error) {
	return t.vs.TimestampResponse(sig)
}

// TestKeylessRoundTrip signs keyless (certificate, log entry, timestamp)
// on push to the real registry and verifies on open.
func TestKeylessRoundTrip(t *testing.T) {
	ctx := context.Background()
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	fulcio := newTestFulcio(t, alice)
	signer, err := signing.NewKeylessSigner("test-token",
		signing.WithCertificateProvider(fulcio),
		signing.WithTransparencyLog(virtualRekor{vs}),
		signing.WithTimestamper(virtualTSA{vs}))
	if err != nil {
		t.Fatal(err)
	}
	reg := registrytest.Start(t)
	ref := reg.Host() + "/keyless/site:v1"
	c, err := blobber.NewClient(blobber.WithSigner(signer))
	if err != nil {
		t.Fatal(err)
	}
	tree := fstest.MapFS{"f": {Data: []byte("keyless\n"), Mode: 0o644}}
	if _, err := c.Push(ctx, ref, tree); err != nil {
		t.Fatal(err)
	}
	policy := signing.Policy{CertificateIdentity: alice, CertificateOIDCIssuer: issuer,
		TrustedRoot: fulcio.trusted(vs), InsecureIgnoreSCT: true}
	for name, p := range map[string]signing.Policy{
		"tlog":              policy,
		"signed timestamps": func() signing.Policy { p := policy; p.UseSignedTimestamps = true; return p }(),
	} {
		v, err := signing.NewVerifier(p)
		if err != nil {
			t.Fatal(err)
		}
		rc, err := blobber.NewClient(blobber.WithVerifier(v))
		if err != nil {
			t.Fatal(err)
		}
		img, err := rc.Open(ctx, ref)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if data, err := img.ReadFile("f"); err != nil || string(data) != "keyless\n" {
			t.Fatalf("%s: %q %v", name, data, err)
		}
		img.Close()
	}
	wrong := policy
	wrong.CertificateIdentity = "bob@example.com"
	v, err := signing.NewVerifier(wrong)
	if err != nil {
		t.Fatal(err)
	}
	rc, _ := blobber.NewClient(blobber.WithVerifier(v))
	if _, err := rc.Open(ctx, ref); !errors.Is(err, blobber.ErrSignature) || !strings.Contains(err.Error(), "wrong identity") {
		t.Fatalf("wrong identity: %v", err)
	}
	// The self-signed key material of another CA is not trusted.
	other := policy
	other.TrustedRoot = vs
	v, _ = signing.NewVerifier(other)
	rc, _ = blobber.NewClient(blobber.WithVerifier(v))
	if _, err := rc.Open(ctx, ref); !errors.Is(err, blobber.ErrSignature) {
		t.Fatalf("untrusted CA: %v", err)
	}
}
