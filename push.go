package blobber

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote/errcode"

	"github.com/blobber-dev/blobber/internal/compression"
	"github.com/blobber-dev/blobber/internal/layer"
	"github.com/blobber-dev/blobber/internal/push"
	"github.com/blobber-dev/blobber/internal/target"
	"github.com/blobber-dev/blobber/internal/toc"
	"github.com/blobber-dev/blobber/internal/transport"
	"github.com/blobber-dev/blobber/internal/upload"
)

type pushOptions struct {
	build     layer.Options
	selection layer.Selection
	chunkSize int64 // upload chunk size; 0 uploads the layer in one request
	meta      pushMetadata
	platforms []ocispec.Platform // WithPlatforms; none for the default
	split     bool               // several layers (WithLayers)
	layerTOCs *tailCollector     // a split push's layers' tails, for the config (push_layers_index.go)
}

// PushOption configures one Push. An option given a value it cannot take
// makes Push fail before anything is opened.
type PushOption func(*pushOptions) error

// WithKeepModTimes records the files' modification times. By default every
// entry gets the Unix epoch, so the same tree always gives the same digest.
func WithKeepModTimes() PushOption {
	return func(o *pushOptions) error { o.build.KeepModTimes = true; return nil }
}

// WithCompression chooses Gzip (the default, readable by every tool) or
// Zstd (faster, smaller). Any other value fails the push (ErrInvalidOption);
// ParseCompression turns a name into a Compression.
func WithCompression(c Compression) PushOption {
	return func(o *pushOptions) error {
		if _, err := ParseCompression(string(c)); err != nil {
			return invalidOption("WithCompression: %v", err)
		}
		o.build.Compression = compression.Compression(c)
		return nil
	}
}

// WithCompressionLevel sets how hard the layer is compressed: "1"
// (fastest) to "9" (smallest) with Gzip, "fastest", "default", "better" or
// "best" with Zstd; "" keeps the compression's default. A faster level
// builds a larger layer sooner. The same tree gives a different layer at
// each level, and the layer's descriptor records its level (annotation
// dev.blobber.layer.compression-level). A name that is no level, or a
// level of the other compression, fails the push (ErrInvalidOption).
func WithCompressionLevel(level string) PushOption {
	return func(o *pushOptions) error {
		if err := compression.CheckLevelName(compression.Level(level)); err != nil {
			return invalidOption("WithCompressionLevel: %v", err)
		}
		o.build.Level = compression.Level(level)
		return nil
	}
}

// WithChunkSize sets the largest piece of a file that is compressed on its
// own (4 MiB by default, also for n == 0): the granularity of a selective
// read. n cannot be negative, nor larger than the 64 MiB chunk a reader
// accepts.
func WithChunkSize(n int) PushOption {
	return func(o *pushOptions) error {
		if n < 0 || n > toc.MaxChunkBytes {
			return invalidOption("WithChunkSize(%d): a chunk is from 1 byte to %d (0 for the default)", n, toc.MaxChunkBytes)
		}
		o.build.ChunkSize = n
		return nil
	}
}

// WithUploadChunkSize uploads the layer n bytes at a time (POST, PATCH per
// chunk, PUT), resuming a failed chunk from what the registry has. Off by
// default (and for n == 0): some registries refuse chunked uploads, and one
// request is fastest where the link is good. n cannot be negative.
func WithUploadChunkSize(n int64) PushOption {
	return func(o *pushOptions) error {
		if n < 0 {
			return invalidOption("WithUploadChunkSize(%d): a chunk size cannot be negative", n)
		}
		o.chunkSize = n
		return nil
	}
}

// Push stores the tree src as an eStargz artifact at ref (a tag; "latest"
// when the reference has none) and returns the manifest's descriptor. The
// manifest is written last, so a push that fails leaves the tag as it was.
//
// Before it reads the tree, Push opens the upload session it will use,
// which fails (ErrUnauthorized) without the right to push. Before it
// uploads anything, it refuses (UnsupportedEntriesError) a tree holding
// entries that Pull would refuse. A file that is not, when opened, the
// file the walk listed (a file swapped for a symlink, say) fails the push.
// For a directory, pass OpenTree(dir), as the CLI does: it follows no
// link out of the tree, even one swapped in for a directory while the push
// runs, which os.DirFS would follow, and a FIFO swapped in for a file fails
// the push instead of blocking it.
func (c *Client) Push(ctx context.Context, ref string, src fs.FS, opts ...PushOption) (ocispec.Descriptor, error) {
	po := pushOptions{split: true} // LayersAuto, unless an option says 1
	for _, opt := range opts {
		if err := opt(&po); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("push to %s: %w", ref, err)
		}
	}
	// Checked once every option is in, whatever their order.
	if err := po.build.Compression.CheckLevel(po.build.Level); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("push to %s: %w", ref, invalidOption("WithCompressionLevel: %v", err))
	}
	ref, extraTags, err := splitTags(ref)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if c.opts.offline && !c.opts.target.OCILayout {
		return ocispec.Descriptor{}, fmt.Errorf("push to %s: %w", ref, ErrOffline)
	}
	t, err := target.Open(ctx, ref, c.opts.target, true)
	if err != nil {
		return ocispec.Descriptor{}, classify(err)
	}
	tag := t.Reference
	if tag == "" {
		tag = "latest"
	}
	if _, err := digest.Parse(tag); err == nil {
		return ocispec.Descriptor{}, fmt.Errorf("push to %s: give a tag, not a digest: %w", ref, ErrInvalidReference)
	}

	// The session proves the right to push before anything is read, and
	// takes the layer if it is uploaded while it is built.
	session, err := t.ReservePush(ctx)
	var unexpected *errcode.ErrorResponse
	switch {
	case errors.As(err, &unexpected) && !refusal(err):
		// A registry may answer this early session in ways the upload
		// itself would not meet: go on without it.
		c.opts.logger.DebugContext(ctx, "could not open an upload session before building", "error", err)
	case err != nil:
		return ocispec.Descriptor{}, wrapf(err, "pushing to %s", t.Name)
	}
	defer session.Release()
	// Only a cache can remember what an earlier push of this tree built.
	// The check's walk fingerprints the tree, and splits it, too: every
	// walk stats every entry. (A split push fingerprints its groups.)
	var listing *push.Fingerprinter
	if c.cache != nil {
		listing = push.NewFingerprinter(po.build)
	}
	splitter := po.splitter(c.cache != nil)
	if src, err = selectTree(ctx, src, po, listing.Visitor(), splitter.Visitor()); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("push to %s: %w", ref, err)
	}
	if desc, done, err := c.pushSplit(ctx, t, src, splitter, po, tag, extraTags, session); done {
		return desc, err
	}

	policy := c.pushPolicy()
	fp, shapeKey := "", ""
	switch {
	case listing != nil:
		fp, shapeKey = po.withManifest(listing.Sum())
	case c.cache != nil: // a split push that found the tree too small to split
		fp, shapeKey = po.fingerprint(src)
	}
	mnt := &mounter{policy.NewMounter(t)}
	if desc, ok := policy.Reuse(ctx, t, mnt.Mounter, src, po.build, fp, tag); ok {
		if err := tagAlso(ctx, t, desc, extraTags); err != nil {
			return ocispec.Descriptor{}, err
		}
		return desc, c.signPushed(ctx, t, desc)
	}

	// The layer is staged compressed in a temporary file: an upload that
	// fails is started again from it, and an upload that waits for the
	// digest (to skip a blob the registry has) reads it once built.
	tmp, err := os.CreateTemp("", stagedLayerPattern)
	if err != nil {
		return ocispec.Descriptor{}, stagingError(err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if c.opts.progress != nil {
		read := c.opts.meter("read", treeSize(src))
		po.build.Progress = read.add
	}
	staged := upload.NewTail(tmp)
	early := policy.UploadWhileBuilding(ctx, t, tag, shapeKey, push.Upload{
		ChunkSize: po.chunkSize,
		Retries:   c.opts.retryPolicy().Retries(),
		Meter:     func() push.Meter { return uploadMeter{c.opts.meter("upload", 0)} },
	}, staged, session)
	session.Release() // unless the upload took it
	// Only a tree the build read in the state fingerprinted above is
	// remembered: the build's walk fingerprints it again as it reads it.
	var built *push.Fingerprinter
	if fp != "" {
		built = push.NewFingerprinter(po.build)
		po.build.Listed = built.Add
	}
	res, err := layer.Build(ctx, src, staged, po.build)
	staged.Close(err)
	if err != nil {
		early.Abort()
		return ocispec.Descriptor{}, fmt.Errorf("building layer: %w", buildError(stagingError(err)))
	}
	comp := po.build.Compression
	if comp == "" {
		comp = compression.Gzip
	}
	layerDesc := layerDescriptor(res, comp, po.build.Level)
	c.stats.layersBuilt.Add(1)
	c.opts.logger.InfoContext(ctx, "built layer", "digest", res.Digest, "size", res.Size, "entries", res.Entries)

	configs := c.uploadConfigs(ctx, t, mnt, []digest.Digest{res.DiffID}, &po)
	uploaded, err := early.Finish(ctx, t, layerDesc)
	switch {
	case err != nil: // reported below
	case uploaded:
		mnt.remember(layerDesc)
	case po.chunkSize > 0:
		err = c.pushChunked(ctx, t, mnt, layerDesc, tmp, po.chunkSize)
	default:
		up := c.opts.meter("upload", res.Size)
		err = c.pushBlob(ctx, t.Store, mnt, layerDesc, func() io.Reader {
			up.done.Store(0)
			return up.reader(io.NewSectionReader(tmp, 0, res.Size))
		})
	}
	if err != nil {
		configs.abandon()
		return ocispec.Descriptor{}, wrapf(err, "uploading layer %s to %s", res.Digest, t.Name)
	}
	desc, man, err := c.pushManifests(ctx, t, configs, []ocispec.Descriptor{layerDesc}, &po, tag)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if fp != "" && desc.MediaType == ocispec.MediaTypeImageManifest {
		// Only a tree that did not change between the fingerprint and
		// the build's reading of it is remembered (and only a manifest:
		// an index is not reused).
		if read, _ := po.withManifest(built.Sum()); fp == read {
			policy.RememberPush(fp, shapeKey, desc, man)
		}
	}
	if err := tagAlso(ctx, t, desc, extraTags); err != nil {
		return ocispec.Descriptor{}, err
	}
	return desc, c.signPushed(ctx, t, desc)
}

// pushBlob uploads a blob unless the target already has it or mnt can
// mount it from another repository. A failed upload is started again from
// the staged bytes, under the client's retry policy: the body is hidden from
// the transport, which could rewind a buffer, so that this loop alone sends
// the upload again (the requests around it are the transport's to retry).
// The registry's digest check on the final PUT is the word on whether the
// bytes arrived intact.
func (c *Client) pushBlob(ctx context.Context, store content.Storage, mnt *mounter, desc ocispec.Descriptor, open func() io.Reader) error {
	has, err := c.hasOrMounts(ctx, store, mnt, desc, open)
	if err != nil || has {
		return err
	}
	policy := c.opts.retryPolicy()
	for attempt := 0; ; attempt++ {
		err = store.Push(ctx, desc, struct{ io.Reader }{open()})
		if err == nil || errors.Is(err, errdef.ErrAlreadyExists) {
			mnt.remember(desc)
			return nil
		}
		if ctx.Err() != nil || !uploadFailed(err) || !transport.Retryable(err) {
			return err
		}
		wait, again := policy.Again(attempt, nil)
		if !again {
			return err
		}
		c.opts.logger.InfoContext(ctx, "retrying upload", "digest", desc.Digest, "attempt", attempt+1, "error", err)
		if err := transport.Wait(ctx, wait); err != nil {
			return err
		}
	}
}

// hasOrMounts reports whether the target already holds desc, or now does
// because mnt had it mounted from another repository (a registry that
// opens an upload session instead gets open's bytes in it, when open is
// not nil).
func (c *Client) hasOrMounts(ctx context.Context, store content.Storage, mnt *mounter, desc ocispec.Descriptor, open func() io.Reader) (bool, error) {
	ok, err := store.Exists(ctx, desc)
	if err != nil {
		return false, err
	}
	if ok {
		c.opts.logger.DebugContext(ctx, "blob already there", "digest", desc.Digest)
		mnt.remember(desc)
		return true, nil
	}
	return mnt.mount(ctx, desc, open), nil
}

// treeSize sums the sizes of the regular files of a tree, for progress.
func treeSize(fsys fs.FS) int64 {
	var total int64
	fs.WalkDir(fsys, ".", func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil
	})
	return total
}

// pushChunked uploads a blob in chunks unless the target already has it or
// mnt can mount it from another repository. (A registry that does not
// mount opens a session for one monolithic upload, which is not used.)
func (c *Client) pushChunked(ctx context.Context, t *target.Target, mnt *mounter, desc ocispec.Descriptor, r io.ReaderAt, chunkSize int64) error {
	has, err := c.hasOrMounts(ctx, t.Store, mnt, desc, nil)
	if err != nil || has {
		return err
	}
	policy := c.opts.retryPolicy()
	for attempt := 0; ; attempt++ {
		err = t.PushChunked(ctx, desc, r, chunkSize)
		if err == nil {
			mnt.remember(desc)
			return nil
		}
		// The registry's digest check on the final PUT is the word on
		// whether the chunks added up; a session that went wrong is begun
		// again from the staged blob. (A chunk that failed was resumed
		// within its session, under the same policy.)
		if _, again := policy.Again(attempt, nil); !again || !digestInvalid(err) {
			return err
		}
		c.opts.logger.InfoContext(ctx, "chunked upload did not add up; starting it again", "digest", desc.Digest, "attempt", attempt+1)
	}
}

// stagedLayerPattern names the temporary file a push stages its layer in.
const stagedLayerPattern = "blobber-layer-*"
