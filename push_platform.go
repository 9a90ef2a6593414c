package blobber

import (
	"context"
	"encoding/json"

	digest "github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"

	"github.com/blobber-dev/blobber/internal/target"
)

// configUploads is the upload of the config of each platform a push
// writes. A config needs only the layers' diffIDs, known once they are
// built: a one-layer push uploads it while its layer's upload ends.
type configUploads struct {
	cancel context.CancelFunc
	done   chan struct{}
	descs  []ocispec.Descriptor // one a platform, in pushPlatforms' order
	err    error
}

// uploadConfigs starts uploading the configs of the layers of diffIDs.
func (c *Client) uploadConfigs(ctx context.Context, t *target.Target, mnt *mounter, diffIDs []digest.Digest, po *pushOptions) *configUploads {
	ctx, cancel := context.WithCancel(ctx)
	u := &configUploads{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(u.done)
		for _, p := range po.pushPlatforms() {
			desc, cfg, err := po.platformConfig(diffIDs, p)
			if err == nil {
				err = wrapf(c.pushBlob(ctx, t.Store, mnt, desc, cfg), "uploading config to %s", t.Name)
			}
			if err != nil {
				u.err = err
				return
			}
			u.descs = append(u.descs, desc)
		}
	}()
	return u
}

// wait waits for the configs' uploads.
func (u *configUploads) wait() ([]ocispec.Descriptor, error) {
	<-u.done
	return u.descs, u.err
}

// abandon stops the uploads (the push failed) and waits for them to end.
func (u *configUploads) abandon() {
	u.cancel()
	<-u.done
}

// pushManifests writes a manifest for each platform the push writes, once
// its config is uploaded, and tags what runtimes resolve: the one
// manifest, or, for several platforms, an image index of them (the
// manifests share the layer and differ only in their config). It returns
// the tagged descriptor and its bytes.
func (c *Client) pushManifests(ctx context.Context, t *target.Target, configs *configUploads, layers []ocispec.Descriptor, po *pushOptions, tag string) (ocispec.Descriptor, []byte, error) {
	cfgs, err := configs.wait()
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	platforms := po.pushPlatforms()
	entries := make([]ocispec.Descriptor, 0, len(platforms))
	for i, p := range platforms {
		man, err := manifestJSON(cfgs[i], layers, po.manifestMetadata())
		if err != nil {
			return ocispec.Descriptor{}, nil, err
		}
		if len(platforms) == 1 {
			desc, err := oras.TagBytes(ctx, t.Store, ocispec.MediaTypeImageManifest, man, tag)
			if err != nil {
				return ocispec.Descriptor{}, nil, wrapf(err, "pushing manifest to %s:%s", t.Name, tag)
			}
			return desc, man, nil
		}
		desc, err := oras.PushBytes(ctx, t.Store, ocispec.MediaTypeImageManifest, man)
		if err != nil {
			return ocispec.Descriptor{}, nil, wrapf(err, "pushing the %s manifest to %s", FormatPlatform(p), t.Name)
		}
		desc.Platform = &p
		entries = append(entries, desc)
	}
	index, err := json.Marshal(ocispec.Index{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageIndex,
		ArtifactType: po.meta.artifactType,
		Manifests:    entries,
		Annotations:  po.meta.annotations,
	})
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	desc, err := oras.TagBytes(ctx, t.Store, ocispec.MediaTypeImageIndex, index, tag)
	if err != nil {
		return ocispec.Descriptor{}, nil, wrapf(err, "pushing image index to %s:%s", t.Name, tag)
	}
	return desc, index, nil
}
