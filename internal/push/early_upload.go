package push

import (
	"context"
	"errors"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/errdef"

	"github.com/blobber-dev/blobber/internal/target"
	"github.com/blobber-dev/blobber/internal/upload"
)

// EarlyUpload is a layer's upload that began before the layer was built,
// reading its staged bytes as the builder writes them, so that the upload
// and the build overlap. A nil *EarlyUpload is the layer uploaded after.
type EarlyUpload struct {
	p       *Policy
	stream  *upload.Stream
	meter   Meter
	retries int
}

// Upload is how one push uploads its layer.
type Upload struct {
	ChunkSize int64        // bytes per PATCH; 0 for earlyChunkSize
	Retries   int          // how many times a failed upload is started again
	Meter     func() Meter // counts the upload's bytes, from when it starts
}

// earlyChunkSize is the size of the chunks (PATCH requests) of an upload
// made while the layer is built, unless the push sets one. A registry makes
// each chunk durable when it ends (Distribution fsyncs it): in chunks, that
// work is done while the build goes on, where one request would leave it
// all for the end, after the build. Larger chunks would
// leave more of it for the end; smaller ones would pay one round trip more
// per chunk on a distant registry, as chunks are sent one after another.
const earlyChunkSize = 64 << 20

// UploadWhileBuilding starts uploading the layer staged in staged before
// it is built, where that is likely to pay:
//   - to a registry (a layout is written locally, from the built file);
//   - for a tree whose shape (its files' names and sizes) the cache has not
//     seen in a layer pushed or read before. Files the cache has seen are
//     likely to build a layer the registry has, in the target or in a
//     repository it can mount from;
//   - to a tag the repository does not have yet. A new tag is most often a
//     new version, with a new layer. An existing tag may be the same tree
//     pushed again, whose layer the registry has.
//
// Any other push builds first and asks the registry (HEAD, then a mount)
// before it sends anything, so that an unchanged tree uploads no byte.
// When the registry turns out to have a layer uploaded early (a new tag
// for a tree pushed before, from a machine whose cache does not know it),
// the upload is dropped as soon as the layer is built and the registry
// says so; the bytes sent until then were sent for nothing.
//
// The upload goes into session, the session Push opened to check its
// right to push, when there is one.
func (p *Policy) UploadWhileBuilding(ctx context.Context, t *target.Target, tag, shapeKey string, up Upload, staged *upload.Tail, session *upload.Session) *EarlyUpload {
	if t.RegistryHost() == "" || p.shapeSeen(shapeKey) {
		return nil
	}
	if _, err := t.Store.Resolve(ctx, tag); !errors.Is(err, errdef.ErrNotFound) {
		return nil
	}
	return p.startUpload(ctx, t, up, staged, session)
}

// startUpload starts the upload of the layer staged in staged, into
// session when there is one; nil when it cannot start.
func (p *Policy) startUpload(ctx context.Context, t *target.Target, up Upload, staged *upload.Tail, session *upload.Session) *EarlyUpload {
	chunk := up.ChunkSize
	if chunk <= 0 {
		chunk = earlyChunkSize
	}
	m := up.Meter()
	var stream *upload.Stream
	var err error
	if session != nil {
		stream, err = t.StreamUploadIn(ctx, session, meteredSource{staged, m}, chunk)
	} else {
		stream, err = t.StreamUpload(ctx, meteredSource{staged, m}, chunk)
	}
	if err != nil {
		p.Logger.DebugContext(ctx, "could not start uploading while building", "error", err)
		return nil
	}
	return &EarlyUpload{p: p, stream: stream, meter: m, retries: up.Retries}
}

// Finish completes the upload of the built layer desc, unless the target
// has it already, and reports whether the target holds it now. When it
// does not, the session is abandoned, and the caller uploads the built
// layer the usual way (false, nil); but with retries off, an upload that
// failed (rather than was refused) is the push's error.
func (e *EarlyUpload) Finish(ctx context.Context, t *target.Target, desc ocispec.Descriptor) (bool, error) {
	if e == nil {
		return false, nil
	}
	e.meter.SetTotal(desc.Size)
	if has, err := t.Store.Exists(ctx, desc); err == nil && has {
		e.stream.Abort()
		e.p.Counts.EarlyUploadsDropped.Add(1)
		e.p.Logger.DebugContext(ctx, "blob already there; upload dropped", "digest", desc.Digest)
		return true, nil
	}
	err := e.stream.Finish(desc)
	switch {
	case err == nil:
		return true, nil
	case ctx.Err() != nil, e.retries == 0 && !upload.Refused(err):
		// With retries off, a failure is the push's; a registry that
		// refuses chunks still gets the layer in one request.
		return false, err
	}
	e.p.Counts.EarlyUploadsFailed.Add(1)
	e.p.Logger.InfoContext(ctx, "upload while building failed; uploading the built layer", "digest", desc.Digest, "error", err)
	return false, nil
}

// Abort abandons the upload (the build failed).
func (e *EarlyUpload) Abort() {
	if e != nil {
		e.stream.Abort()
	}
}

// meteredSource counts the bytes an upload reads for progress (bytes sent
// again after a failure count again).
type meteredSource struct {
	*upload.Tail
	m Meter
}

func (s meteredSource) ReadAt(p []byte, off int64) (int, error) {
	n, err := s.Tail.ReadAt(p, off)
	s.m.Add(int64(n))
	return n, err
}
