package target

import (
	"context"
	"errors"

	"oras.land/oras-go/v2/registry/remote/auth"

	"github.com/blobber-dev/blobber/internal/upload"
)

// ReservePush opens an upload session in the target's repository, which
// proves that the client may push there (upload.Reserve). A layout needs
// no permission: nil, nil.
func (t *Target) ReservePush(ctx context.Context) (*upload.Session, error) {
	if t.repo == nil {
		return nil, nil
	}
	ctx = auth.AppendRepositoryScope(ctx, t.repo.Reference, auth.ActionPull, auth.ActionPush)
	return upload.Reserve(ctx, t.repo.Client, t.repoURL())
}

// StreamUploadIn is StreamUpload in a session ReservePush opened.
func (t *Target) StreamUploadIn(ctx context.Context, s *upload.Session, src upload.Source, chunkSize int64) (*upload.Stream, error) {
	if t.repo == nil || s == nil {
		return nil, errors.ErrUnsupported
	}
	ctx = auth.AppendRepositoryScope(ctx, t.repo.Reference, auth.ActionPull, auth.ActionPush)
	return s.Stream(ctx, src, chunkSize, t.Retry)
}
