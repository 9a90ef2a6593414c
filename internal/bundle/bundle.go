// Package bundle reads cosign v3 signatures: Sigstore bundles holding a DSSE
// envelope around an in-toto statement about a manifest, attached to the
// manifest as OCI referrers. It checks a bundle's shape, lists and fetches
// the referrers that carry bundles, and reads who a bundle claims signed
// it. The cryptographic checks are the caller's Verifier's.
package bundle

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"

	digest "github.com/opencontainers/go-digest"
)

// The format of a signature, as cosign v3 writes it.
const (
	// MediaType is the media type of a Sigstore bundle v0.3, and the
	// artifactType of the referrer manifest that carries it.
	MediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// CosignSignPredicateType is the predicate type of cosign's signatures.
	CosignSignPredicateType = "https://sigstore.dev/cosign/sign/v1"
	// InTotoPayloadType is the DSSE payload type of an in-toto statement.
	InTotoPayloadType = "application/vnd.in-toto+json"
	// InTotoStatementType is the _type of an in-toto Statement v1.
	InTotoStatementType = "https://in-toto.io/Statement/v1"

	// AnnotationContent and AnnotationPredicateType annotate the referrer
	// manifest: what the bundle holds, and the predicate type it signs.
	AnnotationContent       = "dev.sigstore.bundle.content"
	AnnotationPredicateType = "dev.sigstore.bundle.predicateType"
	// ContentDSSEEnvelope is AnnotationContent's value for a DSSE envelope.
	ContentDSSEEnvelope = "dsse-envelope"

	maxBundleSize = 4 << 20
	// MaxConsidered is how many signatures of one manifest are listed.
	MaxConsidered = 64
)

// Statement is the part of an in-toto statement blobber checks.
type Statement struct {
	Type    string `json:"_type"`
	Subject []struct {
		Name   string            `json:"name,omitempty"`
		Digest map[string]string `json:"digest"`
	} `json:"subject"`
	PredicateType string `json:"predicateType"`
}

// Check checks, before any cryptography, that a Sigstore bundle is a
// cosign signature of the manifest with digest dgst: a DSSE envelope
// holding an in-toto statement with cosign's predicate type whose subject
// is dgst. The cryptographic checks are the Verifier's.
func Check(raw []byte, dgst digest.Digest) (*Statement, error) {
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
	var st Statement
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
