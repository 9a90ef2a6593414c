package target

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"

	"github.com/blobber-dev/blobber/internal/fetch"
	"github.com/blobber-dev/blobber/internal/transport"
)

// Mirrors are pull-through caches of a registry, as docker's
// registry-mirrors and containerd's hosts.toml describe them: the same
// repository names on another host. Reads (tags, manifests, blobs, ranges
// of blobs) ask each mirror in turn and then the origin; a mirror that
// fails, cannot be reached or lacks the content is passed over. Writes and
// signatures go to the origin only.
//
// What a mirror serves is checked as what the origin serves is: manifests
// and blobs against their digests, chunks against the TOC. A tag is the
// exception, since nothing can check it: a mirror is trusted to resolve
// tags as much as the origin is (containerd's default "resolve"
// capability). Signature verification, whose referrers come from the
// origin, does not depend on that trust.

// openMirrors returns the repositories of r's mirrors, in order.
func (o Options) openMirrors(ctx context.Context, r registry.Reference, client remote.Client) []*remote.Repository {
	settings, _ := o.registry(r.Registry)
	var repos []*remote.Repository
	for _, host := range settings.Mirrors {
		ref := registry.Reference{Registry: host, Repository: r.Repository, Reference: r.Reference}
		repos = append(repos, &remote.Repository{
			Client:               client,
			Reference:            ref,
			PlainHTTP:            o.plainHTTP(ctx, host),
			TagListMaxPages:      MaxTagPages,
			ReferrerListMaxPages: MaxReferrerPages,
		})
	}
	return repos
}

// mirrorContext makes a request to a mirror go once: the origin, not more
// attempts at the mirror, is what follows a failure.
func mirrorContext(ctx context.Context) context.Context { return transport.NoRetries(ctx) }

// Reader resolves references and fetches manifests, from the mirrors first
// and then from the origin.
type Reader interface {
	Resolve(ctx context.Context, reference string) (ocispec.Descriptor, error)
	content.Fetcher
}

// Reads is where manifests are read from: the target's store, through its
// mirrors when it has some.
func (t *Target) Reads() Reader {
	if len(t.mirrors) == 0 {
		return t.Store
	}
	return mirroredReader{t}
}

type mirroredReader struct{ t *Target }

func (m mirroredReader) Resolve(ctx context.Context, reference string) (ocispec.Descriptor, error) {
	for _, mirror := range m.t.mirrors {
		desc, err := mirror.Resolve(mirrorContext(ctx), reference)
		if err == nil {
			return desc, nil
		}
		m.t.passOver(ctx, mirror, reference, err)
	}
	return m.t.Store.Resolve(ctx, reference)
}

// Fetch reads a manifest whole from a mirror and checks it against desc
// before handing it over, so that a mirror's wrong bytes are passed over
// like its errors, and the origin asked instead.
func (m mirroredReader) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	if desc.Size <= maxCheckedManifest {
		for _, mirror := range m.t.mirrors {
			raw, err := content.FetchAll(mirrorContext(ctx), mirror, desc)
			if err == nil {
				return io.NopCloser(bytes.NewReader(raw)), nil
			}
			m.t.passOver(ctx, mirror, desc.Digest.String(), err)
		}
	}
	return m.t.Store.Fetch(ctx, desc)
}

// passOver notes that a mirror did not serve what was asked; a cancelled
// operation is not the mirror's fault, and is not noted.
func (t *Target) passOver(ctx context.Context, mirror *remote.Repository, what string, err error) {
	if ctx.Err() != nil || t.log == nil {
		return
	}
	t.log.DebugContext(ctx, "a mirror did not serve what was asked; trying the next source",
		"mirror", mirror.Reference.Registry, "what", what, "error", err)
}

// openMirroredBlob reads the blob desc from the first of the mirrors and
// the origin that serves it.
func (t *Target) openMirroredBlob(ctx context.Context, desc ocispec.Descriptor) ReadBlob {
	b := &mirroredBlob{t: t, ctx: ctx}
	for _, mirror := range t.mirrors {
		mctx := auth.AppendRepositoryScope(ctx, mirror.Reference, auth.ActionPull)
		url := repoURL(mirror) + "/blobs/" + desc.Digest.String()
		src := fetch.NewBlob(mctx, mirror.Client, url, desc.Size).WithDigest(desc.Digest).WithPolicy(transport.NewPolicy(-1))
		b.sources = append(b.sources, blobSource{src, mirror})
	}
	ctx = auth.AppendRepositoryScope(ctx, t.repo.Reference, auth.ActionPull)
	origin := fetch.NewBlob(ctx, t.repo.Client, t.repoURL()+"/blobs/"+desc.Digest.String(), desc.Size).WithDigest(desc.Digest).WithPolicy(t.Retry)
	b.sources = append(b.sources, blobSource{origin, nil})
	return b
}

type blobSource struct {
	*fetch.Blob
	mirror *remote.Repository // nil for the origin
}

// mirroredBlob reads ranges from its current source, and moves on to the
// next (the origin last) for good once a read from it fails, or once
// Invalidate says that bytes it served did not verify.
type mirroredBlob struct {
	t       *Target
	ctx     context.Context
	sources []blobSource
	current atomic.Int32
}

func (b *mirroredBlob) Size() int64 { return b.sources[0].Size() }

func (b *mirroredBlob) ReadAt(p []byte, off int64) (int, error) {
	for {
		i := b.current.Load()
		src := b.sources[i]
		n, err := src.ReadAt(p, off)
		if err == nil || errors.Is(err, io.EOF) || src.mirror == nil || b.ctx.Err() != nil {
			return n, err
		}
		b.t.passOver(b.ctx, src.mirror, "a range of a blob", err)
		b.current.CompareAndSwap(i, i+1)
	}
}

// ReadAhead tells every source that [off, off+n) will be read in order:
// whichever serves the reads asks for the stretch in one request.
func (b *mirroredBlob) ReadAhead(off, n int64) {
	for _, src := range b.sources {
		src.ReadAhead(off, n)
	}
}

// Invalidate says that bytes read did not verify: the source being read
// is dropped for the next, unless it is the origin already. Either way the
// bytes may be read once more (the callers read again only once): several
// readers may find bad bytes from one mirror at the same time, and the
// first to tell has moved on to the next source for all of them.
func (b *mirroredBlob) Invalidate(off, n int64) error {
	i := b.current.Load()
	if src := b.sources[i]; src.mirror != nil {
		b.t.passOver(b.ctx, src.mirror, fmt.Sprintf("bytes %d-%d of a blob", off, off+n-1), errors.New("they did not verify"))
		b.current.CompareAndSwap(i, i+1)
	}
	return nil
}

// PassedOver tells whether a mirror has been dropped for the next source.
func (b *mirroredBlob) PassedOver() bool { return b.current.Load() > 0 }

func (b *mirroredBlob) Close() error {
	var errs []error
	for _, src := range b.sources {
		errs = append(errs, src.Close())
	}
	return errors.Join(errs...)
}
