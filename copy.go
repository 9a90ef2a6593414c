package blobber

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry"

	"github.com/blobber-dev/blobber/internal/target"
)

type copyOptions struct {
	recursive            bool
	tags                 []string
	fromLayout, toLayout bool
}

// CopyOption configures one Copy. An option given a value it cannot take
// makes Copy fail before anything is opened.
type CopyOption func(*copyOptions) error

// WithReferrers copies the artifact's referrers too, its signatures among
// them, and theirs in turn (as `oras cp -r` does); for an image index, the
// referrers of each manifest it lists as well. A copied signed artifact
// then verifies at the destination as it did at the source.
func WithReferrers() CopyOption {
	return func(o *copyOptions) error { o.recursive = true; return nil }
}

// WithCopyTags tags the copy at the destination with these tags too.
func WithCopyTags(tags ...string) CopyOption {
	return func(o *copyOptions) error {
		for _, tag := range tags {
			if !isTag(tag) {
				return invalidOption("WithCopyTags: %q is not a tag", tag)
			}
		}
		o.tags = append(o.tags, tags...)
		return nil
	}
}

// WithCopyFromOCILayout reads the source from an OCI image layout
// directory ("path[:tag|@digest]"), whatever the client's WithOCILayout.
func WithCopyFromOCILayout() CopyOption {
	return func(o *copyOptions) error { o.fromLayout = true; return nil }
}

// WithCopyToOCILayout writes the copy into an OCI image layout directory,
// created if missing, whatever the client's WithOCILayout.
func WithCopyToOCILayout() CopyOption {
	return func(o *copyOptions) error { o.toLayout = true; return nil }
}

// CopyResult says what Copy copied and what it did not need to.
type CopyResult struct {
	// Descriptor is the manifest or index copied: the same digest at the
	// destination as at the source.
	Descriptor ocispec.Descriptor
	// Tags are the destination's tags that now name it (none for a copy
	// by digest to a destination without a tag).
	Tags []string
	// Referrers is how many referrer manifests (signatures, SBOMs…) were
	// found and copied along, with WithReferrers.
	Referrers int
	// Transferred are the manifests and blobs whose bytes were read from
	// the source and written to the destination.
	Transferred CopyCount
	// Mounted are the blobs the destination registry linked from the
	// source repository (cross-repository mount): no byte was sent.
	Mounted CopyCount
	// Skipped are the manifests and blobs the destination already held.
	// A manifest found there counts once: what it references is not
	// looked at.
	Skipped CopyCount
}

// CopyCount is a number of contents (manifests and blobs) and their bytes.
type CopyCount struct {
	Count int
	Bytes int64
}

// Copy copies the artifact src names (a manifest or an image index, with
// everything it references) to dst, and returns what it did. src is a tag
// ("latest" when it has none) or a digest; dst is a repository or layout,
// with a tag, several tags ("repo:v1,latest", as push takes them), a
// digest (which must be the source's), or nothing: then the source's tag,
// and no tag for a source named by digest. Each side is a registry
// repository, or an OCI layout with WithCopyFromOCILayout,
// WithCopyToOCILayout or the client's WithOCILayout; both are reached with
// the client's settings and credentials.
//
// What the destination holds already (asked with a HEAD) is not sent
// again; between two repositories of one registry, blobs are mounted
// rather than uploaded. Every byte read from the source is checked
// against its digest before its last bytes are written: content that does
// not match fails the copy (ErrDigestMismatch), and a copy that fails
// tags nothing. The client's WithProgress is told of the bytes transferred
// (phase "transfer"; its total grows as manifests name more content).
func (c *Client) Copy(ctx context.Context, src, dst string, opts ...CopyOption) (*CopyResult, error) {
	var co copyOptions
	for _, opt := range opts {
		if err := opt(&co); err != nil {
			return nil, fmt.Errorf("copy %s to %s: %w", src, dst, err)
		}
	}
	srcOpts, dstOpts := c.opts.target, c.opts.target
	srcOpts.OCILayout = srcOpts.OCILayout || co.fromLayout
	dstOpts.OCILayout = dstOpts.OCILayout || co.toLayout
	if c.opts.offline && (!srcOpts.OCILayout || !dstOpts.OCILayout) {
		return nil, fmt.Errorf("copy %s to %s: %w", src, dst, ErrOffline)
	}
	dst, dstTags, err := splitCopyTags(dst)
	if err != nil {
		return nil, err
	}
	from, err := target.Open(ctx, src, srcOpts, false)
	if err != nil {
		return nil, classify(err)
	}
	to, err := target.Open(ctx, dst, dstOpts, true)
	if err != nil {
		return nil, classify(err)
	}
	srcRef := from.Reference
	if srcRef == "" {
		srcRef = "latest"
	}
	root, err := from.Store.Resolve(ctx, srcRef)
	if err != nil {
		return nil, wrapf(err, "resolving %s", refName(from.Name, srcRef))
	}
	tags, err := copyTags(to.Reference, srcRef, root, append(dstTags, co.tags...))
	if err != nil {
		return nil, fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}

	cp := &copier{c: c, from: from, to: to, recursive: co.recursive}
	cp.src = &verifiedSource{store: from.Store, meter: c.opts.meter(copyPhase, 0)}
	if err := cp.run(ctx, root); err != nil {
		return nil, err
	}
	for _, tag := range tags {
		if err := to.Store.Tag(ctx, root, tag); err != nil {
			return nil, wrapf(err, "tagging %s as %s", root.Digest, refName(to.Name, tag))
		}
	}
	res := cp.result()
	res.Descriptor, res.Tags = root, tags
	return res, nil
}

// copier copies one graph and counts what it did.
type copier struct {
	c         *Client
	from, to  *target.Target
	src       *verifiedSource
	recursive bool

	transferred, mounted, skipped counter
	referrers                     atomic.Int64
}

type counter struct {
	n     atomic.Int64
	bytes atomic.Int64
}

func (k *counter) add(desc ocispec.Descriptor) {
	k.n.Add(1)
	k.bytes.Add(desc.Size)
}

func (k *counter) count() CopyCount {
	return CopyCount{Count: int(k.n.Load()), Bytes: k.bytes.Load()}
}

func (cp *copier) result() *CopyResult {
	return &CopyResult{
		Referrers:   int(cp.referrers.Load()),
		Transferred: cp.transferred.count(),
		Mounted:     cp.mounted.count(),
		Skipped:     cp.skipped.count(),
	}
}

// run copies root's graph, and with recursive its referrers' graphs (and,
// for an index, those of the manifests it lists, which oras-go's
// ExtendedCopyGraph alone does not look for).
func (cp *copier) run(ctx context.Context, root ocispec.Descriptor) error {
	opts := cp.graphOptions()
	if !cp.recursive {
		if err := oras.CopyGraph(ctx, cp.src, cp.to.Store, root, opts); err != nil {
			return cp.copyError(err, root)
		}
		return nil
	}
	extended := oras.ExtendedCopyGraphOptions{
		CopyGraphOptions: opts,
		FindPredecessors: func(ctx context.Context, _ content.ReadOnlyGraphStorage, desc ocispec.Descriptor) ([]ocispec.Descriptor, error) {
			// Only referrers (manifests whose subject is desc): a layout's
			// Predecessors also names the indexes that list desc, which a
			// copy of desc must not take along.
			refs, err := registry.Referrers(ctx, cp.src.graph(), desc, "")
			cp.referrers.Add(int64(len(refs)))
			return refs, err
		},
	}
	if isIndex(root.MediaType) {
		children, err := content.Successors(ctx, cp.src, root)
		if err != nil {
			return cp.copyError(err, root)
		}
		for _, child := range children {
			if !isManifest(child) {
				continue
			}
			if err := oras.ExtendedCopyGraph(ctx, cp.src, cp.to.Store, child, extended); err != nil {
				return cp.copyError(err, child)
			}
		}
	}
	if err := oras.ExtendedCopyGraph(ctx, cp.src, cp.to.Store, root, extended); err != nil {
		return cp.copyError(err, root)
	}
	return nil
}

func (cp *copier) graphOptions() oras.CopyGraphOptions {
	opts := oras.CopyGraphOptions{
		Concurrency: cp.c.opts.concurrency,
		PreCopy: func(_ context.Context, desc ocispec.Descriptor) error {
			cp.src.meter.total.Add(desc.Size)
			cp.src.meter.add(0)
			return nil
		},
		PostCopy: func(_ context.Context, desc ocispec.Descriptor) error {
			cp.transferred.add(desc)
			return nil
		},
		OnCopySkipped: func(_ context.Context, desc ocispec.Descriptor) error {
			cp.skipped.add(desc)
			return nil
		},
		OnMounted: func(_ context.Context, desc ocispec.Descriptor) error {
			cp.mounted.add(desc)
			return nil
		},
	}
	if host := cp.from.RegistryHost(); host != "" && host == cp.to.RegistryHost() && cp.from.Name != cp.to.Name {
		// One registry: it links the blob from the source repository
		// without a byte sent (and uploads what it cannot link).
		repo := strings.TrimPrefix(cp.from.Name, host+"/")
		opts.MountFrom = func(context.Context, ocispec.Descriptor) ([]string, error) { return []string{repo}, nil }
	}
	return opts
}

// copyError says which side failed, on what. Content from the source
// that did not verify is said as such, however the destination's upload
// reported the read that failed.
func (cp *copier) copyError(err error, desc ocispec.Descriptor) error {
	var wrong *wrongContentError
	if errors.As(err, &wrong) {
		return fmt.Errorf("copying %s from %s to %s: %w", desc.Digest, cp.from.Name, cp.to.Name, wrong)
	}
	side := "reading " + cp.from.Name
	var ce *oras.CopyError
	if errors.As(err, &ce) {
		err = ce.Err
		if ce.Origin == oras.CopyErrorOriginDestination {
			side = "writing " + cp.to.Name
		}
	}
	return wrapf(err, "copying %s from %s to %s: %s", desc.Digest, cp.from.Name, cp.to.Name, side)
}

// copyTags are the tags the copy gets at the destination: those dst
// names, else the source's tag (none for a source named by digest), and
// the extra ones. A dst digest must be the source's.
func copyTags(dstRef, srcRef string, root ocispec.Descriptor, extra []string) ([]string, error) {
	var tags []string
	switch d, err := digest.Parse(dstRef); {
	case dstRef == "":
		if _, err := digest.Parse(srcRef); err != nil {
			tags = append(tags, srcRef)
		}
	case err == nil:
		if d != root.Digest {
			return nil, fmt.Errorf("the destination names %s, the source is %s: %w", d, root.Digest, ErrInvalidReference)
		}
	default:
		tags = append(tags, dstRef)
	}
	for _, tag := range extra {
		if !slices.Contains(tags, tag) {
			tags = append(tags, tag)
		}
	}
	return tags, nil
}

// splitCopyTags splits "repo:t1,t2" into "repo:t1" and the other tags,
// as push does.
func splitCopyTags(ref string) (string, []string, error) {
	i := strings.LastIndex(ref, ":")
	if i < strings.LastIndex(ref, "/") || strings.Contains(ref, "@") || !strings.Contains(ref[i+1:], ",") {
		return ref, nil, nil
	}
	tags := strings.Split(ref[i+1:], ",")
	for _, tag := range tags {
		if !isTag(tag) {
			return "", nil, fmt.Errorf("copy to %s: %q is not a tag: %w", ref, tag, ErrInvalidReference)
		}
	}
	return ref[:i+1] + tags[0], tags[1:], nil
}

func isTag(tag string) bool {
	r := registry.Reference{Registry: "x", Repository: "x", Reference: tag}
	return r.ValidateReferenceAsTag() == nil
}

func isManifest(desc ocispec.Descriptor) bool {
	switch desc.MediaType {
	case ocispec.MediaTypeImageManifest, mediaTypeDockerManifest, ocispec.MediaTypeImageIndex, mediaTypeDockerManifestList:
		return true
	}
	return false
}
