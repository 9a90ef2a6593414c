package blobber

import (
	"context"
	"errors"
	"fmt"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"

	"github.com/blobber-dev/blobber/internal/bundle"
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
		return ocispec.Descriptor{}, nil, wrapf(err, "resolving %s", refName(t.Name, tag))
	}
	sigs, err := c.fetchSignatures(ctx, t, desc)
	if err != nil {
		return desc, nil, err
	}
	for i := range sigs {
		sigs[i].Claimed = bundle.ClaimedSigner(sigs[i].Bundle)
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

func (c *Client) verifyBundle(ctx context.Context, desc ocispec.Descriptor, signed []byte) (string, error) {
	if c.opts.verifier == nil {
		return "", errNoVerifier
	}
	if _, err := bundle.Check(signed, desc.Digest); err != nil {
		return "", err
	}
	return c.opts.verifier.Verify(ctx, desc, signed)
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
	refs, err := bundle.List(ctx, graph, desc)
	if err != nil {
		return nil, wrapf(err, "listing signatures of %s", name)
	}
	sigs := make([]Signature, 0, len(refs))
	for _, r := range refs {
		s := Signature{Descriptor: r}
		s.Created, s.Bundle, s.Err = bundle.Fetch(ctx, t.Store, r, desc)
		// A registry's error is worded and classified as any other is.
		var fetchErr *bundle.FetchError
		if errors.As(s.Err, &fetchErr) {
			s.Err = wrapf(fetchErr.Err, "%s", fetchErr.What)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		sigs = append(sigs, s)
	}
	return sigs, nil
}
