package blobber

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"

	"github.com/blobber-dev/blobber/internal/bundle"
	"github.com/blobber-dev/blobber/internal/target"
)

// The format of a signature, as cosign v3 writes it: a Sigstore bundle
// holding a DSSE envelope around an in-toto statement about the manifest,
// attached to the manifest as an OCI referrer.
const (
	// BundleMediaType is the media type of a Sigstore bundle v0.3, and the
	// artifactType of the referrer manifest that carries it.
	BundleMediaType = bundle.MediaType
	// CosignSignPredicateType is the predicate type of cosign's signatures.
	CosignSignPredicateType = bundle.CosignSignPredicateType
	// InTotoPayloadType is the DSSE payload type of an in-toto statement.
	InTotoPayloadType = bundle.InTotoPayloadType
	// InTotoStatementType is the _type of an in-toto Statement v1.
	InTotoStatementType = bundle.InTotoStatementType
)

// Signer signs manifests. The signing package has implementations backed
// by Sigstore (a key, or keyless with Fulcio and Rekor).
type Signer interface {
	// Sign returns a Sigstore bundle (JSON, BundleMediaType) whose DSSE
	// envelope holds an in-toto statement with the manifest's digest as its
	// subject and CosignSignPredicateType as its predicate type.
	Sign(ctx context.Context, manifest ocispec.Descriptor) ([]byte, error)
}

// WithSigner signs every pushed artifact with s and attaches the signature
// to it as an OCI referrer (with the referrers tag schema on registries
// without the referrers API). Client.Sign signs existing artifacts.
func WithSigner(s Signer) Option {
	return func(o *options) error {
		if s == nil {
			return invalidOption("WithSigner: no signer given")
		}
		o.signer = s
		return nil
	}
}

// Sign signs the manifest ref names with the client's signer (WithSigner)
// and attaches the signature; it returns the signed manifest's descriptor.
func (c *Client) Sign(ctx context.Context, ref string) (ocispec.Descriptor, error) {
	if c.opts.offline {
		return ocispec.Descriptor{}, fmt.Errorf("signing %s: %w", ref, ErrOffline)
	}
	if c.opts.signer == nil {
		return ocispec.Descriptor{}, fmt.Errorf("signing %s: no signer configured (WithSigner)", ref)
	}
	t, err := target.Open(ctx, ref, c.opts.target, false)
	if err != nil {
		return ocispec.Descriptor{}, classify(err)
	}
	tag := t.Reference
	if tag == "" {
		tag = "latest"
	}
	desc, err := t.Store.Resolve(ctx, tag)
	if err != nil {
		return ocispec.Descriptor{}, wrapf(err, "resolving %s", refName(t.Name, tag))
	}
	if err := checkManifestDescriptor(t.Name+"@"+desc.Digest.String(), desc); err != nil {
		return ocispec.Descriptor{}, err
	}
	return desc, c.attachSignature(ctx, t, desc)
}

// signPushed signs what Push has just tagged, when the client has a
// signer: the descriptor pushed, never one resolved again from the tag.
func (c *Client) signPushed(ctx context.Context, t *target.Target, desc ocispec.Descriptor) error {
	if c.opts.signer == nil {
		return nil
	}
	return c.attachSignature(ctx, t, desc)
}

// attachSignature signs desc, exactly, and pushes the signature as a
// referrer of it.
func (c *Client) attachSignature(ctx context.Context, t *target.Target, desc ocispec.Descriptor) error {
	name := t.Name + "@" + desc.Digest.String()
	signed, err := c.opts.signer.Sign(ctx, desc)
	if err != nil {
		return fmt.Errorf("signing %s: %w", name, err)
	}
	// A signer must never produce a signature for another artifact.
	if _, err := bundle.Check(signed, desc.Digest); err != nil {
		return fmt.Errorf("signing %s: the signer's bundle: %w", name, err)
	}
	bundleDesc := content.NewDescriptorFromBytes(BundleMediaType, signed)
	if err := c.pushBlob(ctx, t.Store, nil, bundleDesc, func() io.Reader { return bytes.NewReader(signed) }); err != nil {
		return wrapf(err, "uploading signature of %s", name)
	}
	_, err = oras.PackManifest(ctx, t.Store, oras.PackManifestVersion1_1, BundleMediaType, oras.PackManifestOptions{
		Subject: &ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size},
		Layers:  []ocispec.Descriptor{bundleDesc},
		ManifestAnnotations: map[string]string{
			ocispec.AnnotationCreated:      time.Now().UTC().Format(time.RFC3339),
			bundle.AnnotationContent:       bundle.ContentDSSEEnvelope,
			bundle.AnnotationPredicateType: CosignSignPredicateType,
		},
	})
	if err != nil {
		return wrapf(err, "attaching signature to %s", name)
	}
	c.opts.logger.InfoContext(ctx, "signed", "artifact", name, "signature", bundleDesc.Digest)
	return nil
}
