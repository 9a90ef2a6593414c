package blobber

import (
	"context"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry"

	"github.com/blobber-dev/blobber/internal/target"
)

// Verifier checks signatures against a policy (a public key, or a
// certificate identity and issuer with Sigstore's trusted root). The
// signing package has the Sigstore implementation.
type Verifier interface {
	// Verify checks that bundle, a Sigstore bundle's JSON, signs the
	// manifest under the policy, and says who signed it.
	Verify(ctx context.Context, manifest ocispec.Descriptor, bundle []byte) (signer string, err error)
}

// WithVerifier makes Open (and so Pull and everything that reads) refuse
// artifacts that carry no signature v accepts. The reference is resolved
// to a digest once; the signatures attached to that digest are checked,
// and only then is that same digest read. Nothing of the layer is fetched
// before a signature verifies. A nil v is refused rather than taken to
// mean that nothing need be verified.
func WithVerifier(v Verifier) Option {
	return func(o *options) error {
		if v == nil {
			return invalidOption("WithVerifier: no verifier given")
		}
		o.verifier = v
		return nil
	}
}

// Signature is one signature attached to an artifact.
type Signature struct {
	// Descriptor is the referrer manifest that carries the signature.
	Descriptor ocispec.Descriptor
	// Created is when the signature says it was made (RFC 3339), if it says.
	Created string
	// Bundle is the Sigstore bundle (JSON).
	Bundle []byte
	// Claimed is who the bundle says signed it, unverified: a certificate's
	// identity and issuer, or a public key's hint.
	Claimed string
	// Signer is who signed it, as verified; "" when not verified.
	Signer string
	// Err is why the signature does not verify (or was not verified: no
	// verifier); nil when it verifies.
	Err error
}

// errNoVerifier is a Signature's Err when the client has no verifier.
var errNoVerifier = errors.New("not verified (no verifier)")

// Verify resolves ref to a manifest and checks its signatures with the
// client's verifier (WithVerifier), without reading the artifact. It
// returns the manifest's descriptor and the signatures, and an error
// matching ErrSignature (or ErrUnsigned) when none verifies.
func (c *Client) Verify(ctx context.Context, ref string) (ocispec.Descriptor, []Signature, error) {
	if c.opts.verifier == nil {
		return ocispec.Descriptor{}, nil, fmt.Errorf("verifying %s: no verifier configured (WithVerifier)", ref)
	}
	return c.signatures(ctx, ref, true)
}

// Signatures lists the signatures attached to the manifest ref names,
// verified with the client's verifier if it has one.
func (c *Client) Signatures(ctx context.Context, ref string) (ocispec.Descriptor, []Signature, error) {
	return c.signatures(ctx, ref, false)
}

func (c *Client) signatures(ctx context.Context, ref string, require bool) (ocispec.Descriptor, []Signature, error) {
	if c.opts.offline {
		return ocispec.Descriptor{}, nil, fmt.Errorf("listing the signatures of %s: %w", ref, ErrOffline)
	}
	t, err := target.Open(ctx, ref, c.opts.target, false)
	if err != nil {
		return ocispec.Descriptor{}, nil, classify(err)
	}
	tag := t.Reference
	if tag == "" {
		tag = "latest"
	}
	desc, err := t.Store.Resolve(ctx, tag)
	if err != nil {
		return ocispec.Descriptor{}, nil, wrapf(err, "resolving %s:%s", t.Name, tag)
	}
	sigs, err := c.fetchSignatures(ctx, t, desc)
	if err != nil {
		return desc, nil, err
	}
	for i := range sigs {
		sigs[i].Claimed = claimedSigner(sigs[i].Bundle)
		if sigs[i].Err == nil {
			sigs[i].Signer, sigs[i].Err = c.verifyBundle(ctx, desc, sigs[i].Bundle)
		}
	}
	if require {
		return desc, sigs, verdict(t.Name+"@"+desc.Digest.String(), sigs)
	}
	return desc, sigs, nil
}

// verifyArtifact is Open's check: nil without a verifier, else nil only
// when a signature attached to desc verifies.
func (c *Client) verifyArtifact(ctx context.Context, t *target.Target, desc ocispec.Descriptor) error {
	if c.opts.verifier == nil {
		return nil
	}
	name := t.Name + "@" + desc.Digest.String()
	if c.opts.offline {
		return fmt.Errorf("verifying %s: signatures cannot be checked offline: %w", name, ErrSignature)
	}
	sigs, err := c.fetchSignatures(ctx, t, desc)
	if err != nil {
		return err
	}
	for i := range sigs {
		if sigs[i].Err != nil {
			continue
		}
		if sigs[i].Signer, sigs[i].Err = c.verifyBundle(ctx, desc, sigs[i].Bundle); sigs[i].Err == nil {
			c.opts.logger.InfoContext(ctx, "signature verified", "artifact", name, "signer", sigs[i].Signer)
			return nil
		}
	}
	return verdict(name, sigs)
}

func (c *Client) verifyBundle(ctx context.Context, desc ocispec.Descriptor, bundle []byte) (string, error) {
	if c.opts.verifier == nil {
		return "", errNoVerifier
	}
	if _, err := checkBundle(bundle, desc.Digest); err != nil {
		return "", err
	}
	return c.opts.verifier.Verify(ctx, desc, bundle)
}

// verdict is nil when a signature verified, else why none did.
func verdict(name string, sigs []Signature) error {
	if len(sigs) == 0 {
		return fmt.Errorf("%s has no signature: %w", name, ErrUnsigned)
	}
	var why []string
	for _, s := range sigs {
		if s.Err == nil {
			return nil
		}
		msg := s.Err.Error()
		if len(sigs) > 1 {
			msg = s.Descriptor.Digest.Encoded()[:12] + ": " + msg
		}
		why = append(why, msg)
	}
	what := "the signature of " + name + " does not verify"
	if len(sigs) > 1 {
		what = fmt.Sprintf("none of the %d signatures of %s verifies", len(sigs), name)
	}
	return fmt.Errorf("%s: %s: %w", what, strings.Join(why, "; "), ErrSignature)
}

// fetchSignatures finds the Sigstore bundles attached to desc (the
// referrers API, or the referrers tag schema), each fetched and checked
// against its digest. A referrer that is not a well-formed signature
// manifest is listed with the reason in Err.
func (c *Client) fetchSignatures(ctx context.Context, t *target.Target, desc ocispec.Descriptor) ([]Signature, error) {
	name := t.Name + "@" + desc.Digest.String()
	graph, ok := t.Store.(content.ReadOnlyGraphStorage)
	if !ok {
		return nil, fmt.Errorf("listing signatures of %s: the target cannot list referrers", name)
	}
	refs, err := listSignatures(ctx, graph, desc)
	if err != nil {
		return nil, wrapf(err, "listing signatures of %s", name)
	}
	sigs := make([]Signature, 0, len(refs))
	for _, r := range refs {
		s := Signature{Descriptor: r}
		s.Created, s.Bundle, s.Err = fetchBundle(ctx, t.Store, r, desc)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		sigs = append(sigs, s)
	}
	return sigs, nil
}

// errEnoughSignatures stops a referrers listing once it has as many
// signatures as a read considers.
var errEnoughSignatures = errors.New("enough signatures")

// listSignatures lists the signature referrers of desc, at most
// maxSignaturesConsidered: paging stops there instead of following a
// registry's next pages to the end.
func listSignatures(ctx context.Context, graph content.ReadOnlyGraphStorage, desc ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	lister, ok := graph.(registry.ReferrerLister)
	if !ok {
		refs, err := registry.Referrers(ctx, graph, desc, BundleMediaType)
		return refs[:min(len(refs), maxSignaturesConsidered)], err
	}
	var refs []ocispec.Descriptor
	err := lister.Referrers(ctx, desc, BundleMediaType, func(page []ocispec.Descriptor) error {
		refs = append(refs, page[:min(len(page), maxSignaturesConsidered-len(refs))]...)
		if len(refs) == maxSignaturesConsidered {
			return errEnoughSignatures
		}
		return nil
	})
	if errors.Is(err, errEnoughSignatures) {
		err = nil
	}
	return refs, err
}

// fetchBundle reads the one layer of a signature's referrer manifest.
func fetchBundle(ctx context.Context, store content.Fetcher, ref, subject ocispec.Descriptor) (created string, bundle []byte, err error) {
	if ref.MediaType != ocispec.MediaTypeImageManifest || ref.Size > 1<<20 {
		return "", nil, fmt.Errorf("signature manifest %s: media type %q, %d bytes", ref.Digest, ref.MediaType, ref.Size)
	}
	raw, err := content.FetchAll(ctx, store, ref)
	if err != nil {
		return "", nil, wrapf(err, "fetching signature manifest %s", ref.Digest)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return "", nil, fmt.Errorf("signature manifest %s: %v", ref.Digest, err)
	}
	created = m.Annotations[ocispec.AnnotationCreated]
	switch {
	case m.Subject == nil || m.Subject.Digest != subject.Digest:
		return created, nil, fmt.Errorf("signature manifest %s does not refer to %s", ref.Digest, subject.Digest)
	case len(m.Layers) != 1 || m.Layers[0].MediaType != BundleMediaType:
		return created, nil, fmt.Errorf("signature manifest %s does not hold exactly one Sigstore bundle", ref.Digest)
	case m.Layers[0].Size > maxBundleSize:
		return created, nil, fmt.Errorf("signature bundle %s is %d bytes", m.Layers[0].Digest, m.Layers[0].Size)
	}
	bundle, err = content.FetchAll(ctx, store, m.Layers[0])
	if err != nil {
		return created, nil, wrapf(err, "fetching signature bundle %s", m.Layers[0].Digest)
	}
	return created, bundle, nil
}

// Fulcio's certificate extensions naming the OIDC issuer (v2, then v1).
var (
	oidIssuerV2 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}
	oidIssuerV1 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 1}
)

// claimedSigner reads who a bundle says signed it, without verifying.
func claimedSigner(bundle []byte) string {
	type cert struct {
		RawBytes string `json:"rawBytes"`
	}
	var b struct {
		VerificationMaterial struct {
			Certificate *cert `json:"certificate"`
			Chain       *struct {
				Certificates []cert `json:"certificates"`
			} `json:"x509CertificateChain"`
			PublicKey *struct {
				Hint string `json:"hint"`
			} `json:"publicKey"`
		} `json:"verificationMaterial"`
	}
	if json.Unmarshal(bundle, &b) != nil {
		return "?"
	}
	vm := b.VerificationMaterial
	if vm.PublicKey != nil {
		return "key " + vm.PublicKey.Hint
	}
	raw := ""
	if vm.Certificate != nil {
		raw = vm.Certificate.RawBytes
	} else if vm.Chain != nil && len(vm.Chain.Certificates) > 0 {
		raw = vm.Chain.Certificates[0].RawBytes
	}
	der, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return "?"
	}
	crt, err := x509.ParseCertificate(der)
	if err != nil {
		return "?"
	}
	return certificateSigner(crt)
}

func certificateSigner(crt *x509.Certificate) string {
	var ids []string
	for _, u := range crt.URIs {
		ids = append(ids, u.String())
	}
	ids = append(ids, crt.EmailAddresses...)
	issuer := ""
	for _, ext := range crt.Extensions {
		switch {
		case ext.Id.Equal(oidIssuerV2):
			var s string
			if _, err := asn1.Unmarshal(ext.Value, &s); err == nil {
				issuer = s
			}
		case ext.Id.Equal(oidIssuerV1) && issuer == "":
			issuer = string(ext.Value)
		}
	}
	return strings.Join(ids, ",") + " (issuer " + issuer + ")"
}
