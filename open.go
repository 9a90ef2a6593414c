package blobber

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/blobber-dev/blobber/internal/cache"
	"github.com/blobber-dev/blobber/internal/push"
	"github.com/blobber-dev/blobber/internal/target"
	"github.com/blobber-dev/blobber/internal/toc"
)

// Image is an artifact opened for reading. It implements fs.FS,
// fs.ReadDirFS, fs.StatFS and fs.ReadLinkFS over the artifact's table of
// contents: listing costs nothing more, and reading a file fetches only its
// chunks, each verified against its digest. Reads use the context given to
// Client.Open.
type Image struct {
	ctx     context.Context
	client  *Client
	name    string
	art     *artifact
	index   *toc.Index
	layers  []layerReader // by toc.Chunk.Layer: the network, or the cache in front of it
	fetched *readCounts   // what came from the registry
	// remembered is closed once the cache's records of the image are
	// written (see remember).
	remembered chan struct{}
}

var (
	_ fs.ReadDirFS  = (*Image)(nil)
	_ fs.StatFS     = (*Image)(nil)
	_ fs.ReadLinkFS = (*Image)(nil)
)

// Open resolves ref, verifies its manifest and reads its table of contents
// (the TOC is hashed while it is parsed, and nothing parsed from it is used
// unless it matches the manifest's annotation). Only the end of the layer is
// downloaded.
func (c *Client) Open(ctx context.Context, ref string) (*Image, error) {
	t, err := target.Open(ctx, ref, c.opts.target, false)
	if err != nil {
		return nil, classify(err)
	}
	art, err := c.resolve(ctx, t)
	if err != nil {
		return nil, err
	}
	return c.openArtifact(ctx, t, art)
}

// openArtifact reads the table of contents of a resolved artifact, once a
// signature of it verifies if the client has a verifier.
func (c *Client) openArtifact(ctx context.Context, t *target.Target, art *artifact) (*Image, error) {
	// With a verifier, the digest just resolved must carry a signature that
	// verifies before anything of its layer is read.
	if err := c.verifyArtifact(ctx, t, art.signed()); err != nil {
		return nil, err
	}
	name := t.Name + "@" + art.manifest.Digest.String()
	img := &Image{ctx: ctx, client: c, name: name, art: art, fetched: &readCounts{}}
	if err := img.openLayers(ctx, t); err != nil {
		img.closeLayers()
		return nil, err
	}
	var err error
	if img.index, err = img.readIndex(ctx, img.configTails(ctx, t)); err != nil {
		img.closeLayers()
		return nil, wrapf(err, "reading the table of contents of %s", name)
	}
	if c.cache != nil && t.RegistryHost() != "" {
		c.opts.debugCache(ctx, "table of contents", img.fetched.bytes.Load() == 0, "artifact", name)
	}
	img.remembered = make(chan struct{})
	go img.remember(t)
	c.opts.logger.DebugContext(ctx, "opened", "artifact", name, "entries", img.index.Files)
	return img, nil
}

// remember records in the cache what a later push can use: the repository
// holds these blobs (a push elsewhere on its registry can mount them), and
// the shape of the layer's tree. It runs beside what the caller does with
// the image, since the records are files the cache creates and the
// caller's reads need none of them; Close waits for it.
func (img *Image) remember(t *target.Target) {
	defer close(img.remembered)
	if testHookRemember != nil {
		testHookRemember()
	}
	c, art := img.client, img.art
	policy := c.pushPolicy()
	policy.RememberSources(t, append([]ocispec.Descriptor{art.config}, art.layerDescriptors()...)...)
	if c.cache != nil && t.RegistryHost() != "" && len(art.layers) == 1 {
		policy.RememberShape(push.IndexShape(img.index), art.manifest)
	}
}

// testHookRemember, if set, runs before remember records anything.
var testHookRemember func()

// cachedLayer reads through the cache and closes both it and the network.
// The cache's other methods (Invalidate, DeferPromote, PromoteVerified)
// are promoted, for the readers that look for them.
type cachedLayer struct {
	*cache.Blob
	network io.Closer
}

var _ invalidator = cachedLayer{}

// Invalidate drops the bytes from the cache, and the mirror that served
// them, if one did, so that they are read again from the next source.
func (l cachedLayer) Invalidate(off, n int64) error {
	if inv, ok := l.network.(invalidator); ok {
		_ = inv.Invalidate(off, n) // the origin's bytes stay what they are
	}
	return l.Blob.Invalidate(off, n)
}

func (l cachedLayer) Close() error {
	err := l.Blob.Close()
	if nerr := l.network.Close(); err == nil {
		err = nerr
	}
	return err
}

// Descriptor is the descriptor of the artifact's manifest.
func (img *Image) Descriptor() ocispec.Descriptor { return img.art.manifest }

// Name is the artifact's repository and manifest digest.
func (img *Image) Name() string { return img.name }

// Close releases the artifact.
func (img *Image) Close() error {
	if img.remembered != nil {
		<-img.remembered
	}
	return img.closeLayers()
}

const maxSymlinkHops = 40

var errEscapes error = &kindError{"symlink leads outside the artifact", ErrPathTraversal}

// lookup finds the entry name refers to, following symlinks (the last one
// only when follow is set) inside the artifact, and hardlinks to the file
// they share content with.
func (img *Image) lookup(op, name string, follow bool) (*toc.Entry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	hops := 0
	e, err := img.resolve(name, follow, &hops)
	if errors.Is(err, fs.ErrNotExist) {
		err = ErrNotFound
	}
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	return e, nil
}

func (img *Image) resolve(name string, follow bool, hops *int) (*toc.Entry, error) {
	e := img.index.Root
	if name == "." {
		return e, nil
	}
	// One component at a time, each among its directory's children: a
	// listing resolves every name it prints, and this allocates nothing.
	for rest := name; ; {
		part, tail, more := strings.Cut(rest, "/")
		last := !more
		next, ok := e.Child(part)
		if !ok {
			return nil, fs.ErrNotExist
		}
		if next.Type == toc.TypeSymlink && (!last || follow) {
			if *hops++; *hops > maxSymlinkHops {
				return nil, errors.New("too many levels of symbolic links")
			}
			dest := path.Join(e.Name, next.LinkName())
			if path.IsAbs(next.LinkName()) || dest == ".." || strings.HasPrefix(dest, "../") {
				return nil, errEscapes
			}
			resolved, err := img.resolve(dest, true, hops)
			if err != nil {
				return nil, err
			}
			next = resolved
		}
		if !last && next.Type != toc.TypeDir {
			return nil, fmt.Errorf("%s is not a directory", next.Name)
		}
		e = next
		if last {
			break
		}
		rest = tail
	}
	if e.Type == toc.TypeHardlink {
		if t, ok := img.index.Lookup(e.LinkName()); ok {
			return t, nil
		}
		return nil, fs.ErrNotExist
	}
	return e, nil
}

// ReadFile reads a whole file (fs.ReadFileFS).
func (img *Image) ReadFile(name string) ([]byte, error) {
	f, err := img.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}
