package blobber

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"

	"github.com/blobber-dev/blobber/internal/compression"
	"github.com/blobber-dev/blobber/internal/layer"
	"github.com/blobber-dev/blobber/internal/push"
	"github.com/blobber-dev/blobber/internal/target"
	"github.com/blobber-dev/blobber/internal/upload"
)

// Layers modes for WithLayers.
const (
	// LayersOne stores the tree as one eStargz layer.
	LayersOne = "1"
	// LayersAuto (the default) splits a tree larger than a few MiB into several
	// eStargz layers, deterministically and stably (see docs/layers.md),
	// so that a push after a small change uploads only the layers that
	// changed. A small tree stays one layer, byte for byte as LayersOne
	// builds it.
	LayersAuto = "auto"
)

// WithLayers chooses how the tree is split into layers: LayersOne or
// LayersAuto. Any other value fails the push (ErrInvalidOption).
func WithLayers(mode string) PushOption {
	return func(o *pushOptions) error {
		switch mode {
		case LayersOne:
			o.split = false
		case LayersAuto, "":
			o.split = true
		default:
			return invalidOption("WithLayers(%q): the layers are %q or %q", mode, LayersAuto, LayersOne)
		}
		return nil
	}
}

// pushSplit pushes the tree as several layers when the options asked for a
// split (sp, which the check's walk was shown) and the tree has more than
// one group; done is false otherwise, and the push goes on as one layer.
func (c *Client) pushSplit(ctx context.Context, t *target.Target, src fs.FS, sp *treeSplit, po pushOptions, tag string, extraTags []string, session *upload.Session) (desc ocispec.Descriptor, done bool, err error) {
	if sp == nil {
		return desc, false, nil
	}
	groups, err := sp.Groups()
	if err != nil {
		return desc, true, fmt.Errorf("push to %s: %w", t.Name, err)
	}
	if len(groups) < 2 {
		return desc, false, nil
	}
	mnt := &mounter{c.pushPolicy().NewMounter(t)}
	if desc, err = c.pushLayers(ctx, t, mnt, src, groups, sp.fingerprints(len(groups)), po, tag, session); err != nil {
		return desc, true, err
	}
	if err := tagAlso(ctx, t, desc, extraTags); err != nil {
		return desc, true, err
	}
	return desc, true, c.signPushed(ctx, t, desc)
}

// builtLayer is one layer of a split push: built by this push from its
// group (fp is the group's fingerprint before the build, for the cache's
// record, with fpAfter), or reused from an earlier build of the same group.
type builtLayer struct {
	desc    ocispec.Descriptor
	diffID  digest.Digest
	fp      string
	fpAfter string // fp taken again once the layer was built
	reused  bool
}

// pushLayers builds one layer per group of the tree (fps, their
// fingerprints for the cache's records, "" without), each from this tree
// by this push unless the cache's record of an earlier build of the same
// group is found, read back, to hold this group's very bytes (ReuseLayer,
// checked while the groups without a record build); it uploads those the
// registry lacks (a HEAD, or a mount from another repository), streaming
// each while it is built, into sessions opened ahead (layerSessions, the
// first of them session); then the config and the manifest. Each build
// already uses every core: the next one begins only once it has read its
// files (buildRelay), and shares its memory bound (layer.ShareMemory).
func (c *Client) pushLayers(ctx context.Context, t *target.Target, mnt *mounter, src fs.FS, groups []layer.Group, fps []string, po pushOptions, tag string, session *upload.Session) (ocispec.Descriptor, error) {
	comp := po.build.Compression
	if comp == "" {
		comp = compression.Gzip
	}
	var read *meter
	if c.opts.progress != nil {
		read = c.opts.meter("read", treeSize(src))
		po.build.Progress = read.add
	}
	policy := c.pushPolicy()
	// A new tag most often holds new layers: those built are streamed.
	early := policy.UploadLayersWhileBuilding(ctx, t, tag)
	if !early {
		session.Release()
	}
	sessions := newLayerSessions(ctx, t, session)
	defer sessions.release()
	up := push.Upload{
		ChunkSize: po.chunkSize,
		Retries:   c.opts.retryPolicy().Retries(),
		Meter:     func() push.Meter { return uploadMeter{c.opts.meter("upload", 0)} },
	}
	built := make([]builtLayer, len(groups))
	uploads, uctx := errgroup.WithContext(ctx)
	uploads.SetLimit(4) // two building (buildRelay), and two uploading what was built
	checks := c.checkRecordedLayers(uctx, policy, t, mnt, src, groups, fps, po.build)
	defer checks.stop()
	tails := newTailCollector(len(groups))
	defer tails.close()
	streams := 0 // the layers left to upload while they are built
	for i := range groups {
		if early && !checks.recorded[i] {
			streams++
		}
	}
	build := layer.ShareMemory(po.build)
	relay := newBuildRelay()
	var notStarted error
	for _, i := range checks.order {
		sub := layer.Subtree(src, groups[i])
		if reused, ok := checks.reused(i); ok {
			built[i] = builtLayer{desc: reused.Desc, diffID: reused.DiffID, reused: true}
			tails.add(i, reused.Desc, reused.Tail)
			if read != nil {
				read.add(groups[i].Bytes)
			}
			continue
		}
		progress, done, err := relay.start(uctx, groups[i].Bytes, build.Progress)
		if err != nil {
			// A build or an upload failed, and Wait says which; or the
			// push was cancelled, which no goroutine may have seen.
			notStarted = err
			break
		}
		tmp, err := os.CreateTemp("", stagedLayerPattern)
		if err != nil {
			done()
			uploads.Wait()
			return ocispec.Descriptor{}, stagingError(err)
		}
		staged := upload.NewTail(tmp)
		var streaming *push.EarlyUpload
		if early && !checks.recorded[i] {
			// A group the cache has a record of, which could not be
			// reused, is as likely to build a layer the registry has:
			// it is built first, then looked for.
			streams--
			streaming = policy.UploadLayerWhileBuilding(uctx, t, up, staged, sessions.next(streams > 0))
		}
		opts := build
		opts.Progress = progress
		// The build's walk fingerprints the group again as it reads it:
		// only a group read in the state fingerprinted is recorded.
		var after *push.LayerFingerprinter
		if checks.fps[i] != "" {
			after = push.NewLayerFingerprinter(po.build)
			opts.Listed = func(name string, info fs.FileInfo) {
				if name != "." {
					after.Add(name, info)
				}
			}
		}
		uploads.Go(func() error {
			defer os.Remove(tmp.Name())
			defer tmp.Close()
			res, err := layer.Build(uctx, sub, staged, opts)
			done()
			staged.Close(err)
			if err != nil {
				streaming.Abort()
				return fmt.Errorf("building layer %d: %w", i, buildError(stagingError(err)))
			}
			desc := layerDescriptor(res, comp, po.build.Level)
			built[i] = builtLayer{desc: desc, diffID: res.DiffID, fp: checks.fps[i], fpAfter: after.Sum()}
			tails.keep(i, tmp, desc, comp)
			c.stats.layersBuilt.Add(1)
			c.opts.logger.InfoContext(ctx, "built layer", "index", i, "digest", res.Digest, "size", res.Size, "entries", res.Entries)
			if uploaded, err := streaming.Finish(uctx, t, desc); err != nil || uploaded {
				if uploaded {
					mnt.remember(desc)
				}
				return wrapf(err, "uploading layer %s to %s", desc.Digest, t.Name)
			}
			if po.chunkSize > 0 {
				return wrapf(c.pushChunked(uctx, t, mnt, desc, tmp, po.chunkSize), "uploading layer %s to %s", desc.Digest, t.Name)
			}
			return wrapf(c.pushBlob(uctx, t.Store, mnt, desc, func() io.Reader {
				return io.NewSectionReader(tmp, 0, desc.Size)
			}), "uploading layer %s to %s", desc.Digest, t.Name)
		})
	}
	if err := uploads.Wait(); err != nil {
		return ocispec.Descriptor{}, err
	}
	if notStarted != nil {
		return ocispec.Descriptor{}, notStarted
	}
	var diffIDs []digest.Digest
	var descs []ocispec.Descriptor
	for _, b := range built {
		diffIDs = append(diffIDs, b.diffID)
		descs = append(descs, b.desc)
	}
	po.layerTOCs = tails
	desc, _, err := c.pushManifests(ctx, t, c.uploadConfigs(ctx, t, mnt, diffIDs, &po), descs, &po, tag)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	rememberLayers(policy, built)
	return desc, nil
}
