package bundle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry"
)

// errEnoughSignatures stops a referrers listing once it has as many
// signatures as a read considers.
var errEnoughSignatures = errors.New("enough signatures")

// List lists the signature referrers of desc, at most MaxConsidered:
// paging stops there instead of following a registry's next pages to the
// end.
func List(ctx context.Context, graph content.ReadOnlyGraphStorage, desc ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	lister, ok := graph.(registry.ReferrerLister)
	if !ok {
		refs, err := registry.Referrers(ctx, graph, desc, MediaType)
		return refs[:min(len(refs), MaxConsidered)], err
	}
	var refs []ocispec.Descriptor
	err := lister.Referrers(ctx, desc, MediaType, func(page []ocispec.Descriptor) error {
		refs = append(refs, page[:min(len(page), MaxConsidered-len(refs))]...)
		if len(refs) == MaxConsidered {
			return errEnoughSignatures
		}
		return nil
	})
	if errors.Is(err, errEnoughSignatures) {
		err = nil
	}
	return refs, err
}

// FetchError is a failure to fetch a signature's manifest or bundle from
// the store, rather than a malformed signature: the caller words and
// classifies it as it does any registry error.
type FetchError struct {
	What string // what was being fetched
	Err  error
}

func (e *FetchError) Error() string { return e.What + ": " + e.Err.Error() }

func (e *FetchError) Unwrap() error { return e.Err }

// Fetch reads the one layer of a signature's referrer manifest ref, which
// must refer to subject.
func Fetch(ctx context.Context, store content.Fetcher, ref, subject ocispec.Descriptor) (created string, bundle []byte, err error) {
	if ref.MediaType != ocispec.MediaTypeImageManifest || ref.Size > 1<<20 {
		return "", nil, fmt.Errorf("signature manifest %s: media type %q, %d bytes", ref.Digest, ref.MediaType, ref.Size)
	}
	raw, err := content.FetchAll(ctx, store, ref)
	if err != nil {
		return "", nil, &FetchError{What: fmt.Sprintf("fetching signature manifest %s", ref.Digest), Err: err}
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return "", nil, fmt.Errorf("signature manifest %s: %v", ref.Digest, err)
	}
	created = m.Annotations[ocispec.AnnotationCreated]
	switch {
	case m.Subject == nil || m.Subject.Digest != subject.Digest:
		return created, nil, fmt.Errorf("signature manifest %s does not refer to %s", ref.Digest, subject.Digest)
	case len(m.Layers) != 1 || m.Layers[0].MediaType != MediaType:
		return created, nil, fmt.Errorf("signature manifest %s does not hold exactly one Sigstore bundle", ref.Digest)
	case m.Layers[0].Size > maxBundleSize:
		return created, nil, fmt.Errorf("signature bundle %s is %d bytes", m.Layers[0].Digest, m.Layers[0].Size)
	}
	bundle, err = content.FetchAll(ctx, store, m.Layers[0])
	if err != nil {
		return created, nil, &FetchError{What: fmt.Sprintf("fetching signature bundle %s", m.Layers[0].Digest), Err: err}
	}
	return created, bundle, nil
}
