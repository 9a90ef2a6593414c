package blobber

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"

	"github.com/blobber-dev/blobber/internal/target"
)

// The format of a signature, as cosign v3 writes it: a Sigstore bundle
// holding a DSSE envelope around an in-toto statement about the manifest,
// attached to the manifest as an OCI referrer.
const (
	// BundleMediaType is the media type of a Sigstore bundle v0.3, and the
	// artifactType of the referrer manifest that carries it.
	BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// CosignSignPredicateType is the predicate type of cosign's signatures.
	CosignSignPredicateType = "https://sigstore.dev/cosign/sign/v1"
	// InTotoPayloadType is the DSSE payload type of an in-toto statement.
	InTotoPayloadType = "application/vnd.in-toto+json"
	// InTotoStatementType is the _type of an in-toto Statement v1.
	InTotoStatementType = "https://in-toto.io/Statement/v1"

	annotationBundleContent   = "dev.sigstore.bundle.content"
	annotationPredicateType   = "dev.sigstore.bundle.predicateType"
	maxBundleSize             = 4 << 20
	maxSignaturesConsidered   = 64
	bundleContentDSSEEnvelope = "dsse-envelope"
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
		return ocispec.Descriptor{}, wrapf(err, "resolving %s:%s", t.Name, tag)
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
	bundle, err := c.opts.signer.Sign(ctx, desc)
	if err != nil {
		return fmt.Errorf("signing %s: %w", name, err)
	}
	// A signer must never produce a signature for another artifact.
	if _, err := checkBundle(bundle, desc.Digest); err != nil {
		return fmt.Errorf("signing %s: the signer's bundle: %w", name, err)
	}
	bundleDesc := content.NewDescriptorFromBytes(BundleMediaType, bundle)
	if err := c.pushBlob(ctx, t.Store, nil, bundleDesc, func() io.Reader { return bytes.NewReader(bundle) }); err != nil {
		return wrapf(err, "uploading signature of %s", name)
	}
	_, err = oras.PackManifest(ctx, t.Store, oras.PackManifestVersion1_1, BundleMediaType, oras.PackManifestOptions{
		Subject: &ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size},
		Layers:  []ocispec.Descriptor{bundleDesc},
		ManifestAnnotations: map[string]string{
			ocispec.AnnotationCreated: time.Now().UTC().Format(time.RFC3339),
			annotationBundleContent:   bundleContentDSSEEnvelope,
			annotationPredicateType:   CosignSignPredicateType,
		},
	})
	if err != nil {
		return wrapf(err, "attaching signature to %s", name)
	}
	c.opts.logger.InfoContext(ctx, "signed", "artifact", name, "signature", bundleDesc.Digest)
	return nil
}

// statement is the part of an in-toto statement blobber checks.
type statement struct {
	Type    string `json:"_type"`
	Subject []struct {
		Name   string            `json:"name,omitempty"`
		Digest map[string]string `json:"digest"`
	} `json:"subject"`
	PredicateType string `json:"predicateType"`
}

// checkBundle checks, before any cryptography, that a Sigstore bundle is
// a cosign signature of the manifest with digest dgst: a DSSE envelope
// holding an in-toto statement with cosign's predicate type whose subject
// is dgst. The cryptographic checks are the Verifier's.
func checkBundle(raw []byte, dgst digest.Digest) (*statement, error) {
	var b struct {
		MediaType    string `json:"mediaType"`
		DSSEEnvelope *struct {
			Payload     string `json:"payload"`
			PayloadType string `json:"payloadType"`
		} `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, fmt.Errorf("malformed bundle: %v", err)
	}
	if b.DSSEEnvelope == nil {
		return nil, fmt.Errorf("bundle does not contain a DSSE envelope")
	}
	if b.DSSEEnvelope.PayloadType != InTotoPayloadType {
		return nil, fmt.Errorf("DSSE payload type is %q, not %q", b.DSSEEnvelope.PayloadType, InTotoPayloadType)
	}
	payload, err := base64.StdEncoding.DecodeString(b.DSSEEnvelope.Payload)
	if err != nil {
		return nil, fmt.Errorf("DSSE payload: %v", err)
	}
	var st statement
	if err := json.Unmarshal(payload, &st); err != nil {
		return nil, fmt.Errorf("in-toto statement: %v", err)
	}
	if st.Type != InTotoStatementType {
		return nil, fmt.Errorf("statement type is %q, not %q", st.Type, InTotoStatementType)
	}
	if st.PredicateType != CosignSignPredicateType {
		return nil, fmt.Errorf("predicate type is %q, not cosign's signature (%s)", st.PredicateType, CosignSignPredicateType)
	}
	var others []string
	for _, s := range st.Subject {
		for alg, hex := range s.Digest {
			if alg == dgst.Algorithm().String() && hex == dgst.Encoded() {
				return &st, nil
			}
			others = append(others, alg+":"+hex)
		}
	}
	slices.Sort(others)
	return nil, fmt.Errorf("the signature is for %v, not %s", others, dgst)
}
