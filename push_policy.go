package blobber

import (
	"context"
	"fmt"
	"io"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/blobber-dev/blobber/internal/push"
)

// pushPolicy is the client's push policy (internal/push): what its cache
// remembers decides whether a push rebuilds, uploads while building, or
// mounts.
func (c *Client) pushPolicy() *push.Policy {
	return &push.Policy{
		Cache:         c.cache,
		Logger:        c.opts.logger,
		Limits:        c.tocLimits(),
		ParseManifest: eStargzLayer,
		Counts:        &c.stats.push,
	}
}

// eStargzLayer is the layer of a manifest that Open would read, for the
// policy's check of an earlier build.
func eStargzLayer(name string, desc ocispec.Descriptor, raw []byte) (push.Layer, error) {
	art, err := parseArtifact(name, desc, raw)
	if err != nil {
		return push.Layer{}, err
	}
	if len(art.layers) != 1 {
		// The policy reuses a build of one layer only.
		return push.Layer{}, fmt.Errorf("%s has %d layers: %w", name, len(art.layers), ErrNotEStargz)
	}
	l := art.layers[0]
	return push.Layer{Desc: l.desc, Compression: art.compression, TOCDigest: l.tocDigest}, nil
}

// mounter is the policy's mounter under the names push.go's upload
// functions call it by. A nil *mounter (a signature's blobs) does nothing.
type mounter struct{ *push.Mounter }

func (m *mounter) mount(ctx context.Context, desc ocispec.Descriptor, open func() io.Reader) bool {
	return m != nil && m.Mount(ctx, desc, open)
}

func (m *mounter) remember(blobs ...ocispec.Descriptor) {
	if m != nil {
		m.Remember(blobs...)
	}
}

// uploadMeter is a meter as the policy's early upload counts with it.
type uploadMeter struct{ *meter }

func (m uploadMeter) Add(n int64)          { m.add(n) }
func (m uploadMeter) SetTotal(total int64) { m.setTotal(total) }
