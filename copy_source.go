package blobber

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
)

// copyPhase is the phase Copy reports its progress under.
const copyPhase = "transfer"

// verifiedSource is the source of a copy as oras-go reads it: every
// content it hands over is checked against its descriptor (digest and
// size) as it is read, which oras-go does not do for a registry's blobs.
type verifiedSource struct {
	store oras.ReadOnlyTarget
	meter *meter
}

var _ content.ReadOnlyGraphStorage = (*verifiedSource)(nil)

func (s *verifiedSource) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	if err := desc.Digest.Validate(); err != nil {
		return nil, fmt.Errorf("content %s: %w: %v", desc.Digest, ErrDigestMismatch, err)
	}
	rc, err := s.store.Fetch(ctx, desc)
	if err != nil {
		return nil, err
	}
	return &verifyingReader{rc: rc, desc: desc, hash: desc.Digest.Algorithm().Hash(), meter: s.meter}, nil
}

func (s *verifiedSource) Exists(ctx context.Context, desc ocispec.Descriptor) (bool, error) {
	return s.store.Exists(ctx, desc)
}

// Predecessors are the store's, where it keeps a graph (a registry lists
// referrers, a layout what points at each content).
func (s *verifiedSource) Predecessors(ctx context.Context, desc ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	if g, ok := s.store.(content.ReadOnlyGraphStorage); ok {
		return g.Predecessors(ctx, desc)
	}
	return nil, nil
}

// graph is what referrers are listed from: the store itself, so that a
// registry's referrers API is used (oras-go's registry.Referrers looks for
// it by type assertion), else this source, whose fetches are checked.
func (s *verifiedSource) graph() content.ReadOnlyGraphStorage {
	if g, ok := s.store.(content.ReadOnlyGraphStorage); ok {
		return g
	}
	return s
}

// verifyingReader hashes what it reads and holds back the last bytes of a
// content that does not match its digest: the destination never receives
// the whole of wrong content, whatever it checks itself.
type verifyingReader struct {
	rc    io.ReadCloser
	desc  ocispec.Descriptor
	hash  hash.Hash
	read  int64
	meter *meter
	err   error
}

func (r *verifyingReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.read == r.desc.Size {
		r.err = r.checkEnd()
		return 0, r.err
	}
	if left := r.desc.Size - r.read; int64(len(p)) > left {
		p = p[:left]
	}
	n, err := r.rc.Read(p)
	r.read += int64(n)
	r.hash.Write(p[:n])
	if r.read == r.desc.Size {
		if got := hex.EncodeToString(r.hash.Sum(nil)); got != r.desc.Digest.Encoded() {
			r.err = &wrongContentError{r.desc, "does not match its digest"}
			return 0, r.err
		}
		err = nil // the end is checked on the next read
	} else if errors.Is(err, io.EOF) {
		r.err = &wrongContentError{r.desc, fmt.Sprintf("ends after %d of its %d bytes", r.read, r.desc.Size)}
		return 0, r.err
	}
	r.meter.add(int64(n))
	return n, err
}

// checkEnd makes sure that nothing follows the described bytes: io.EOF
// when nothing does.
func (r *verifyingReader) checkEnd() error {
	var extra [1]byte
	for {
		n, err := r.rc.Read(extra[:])
		switch {
		case n > 0:
			return &wrongContentError{r.desc, fmt.Sprintf("is longer than its %d bytes", r.desc.Size)}
		case errors.Is(err, io.EOF):
			return io.EOF
		case err != nil:
			return err
		}
	}
}

func (r *verifyingReader) Close() error { return r.rc.Close() }

// wrongContentError: what the source sent is not the content its
// descriptor names.
type wrongContentError struct {
	desc ocispec.Descriptor
	what string
}

func (e *wrongContentError) Error() string {
	return fmt.Sprintf("the source's %s %s", e.desc.Digest, e.what)
}

func (e *wrongContentError) Unwrap() error { return ErrDigestMismatch }
