package upload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/blobber-dev/blobber/internal/transport"
)

// Source is a blob that may still be growing: the bytes it holds so far
// can be read, and Ready waits for more (see readyFunc).
type Source interface {
	io.ReaderAt
	Ready(ctx context.Context, want int64) (size int64, complete bool, err error)
}

// Stream uploads a blob while it is still being written, before its digest
// is known: POST opens an upload session, a PATCH sends each chunk (with
// its Content-Range, as for Chunked, once the source holds it whole; as
// the source grows, without a length, while it does not), and Finish
// closes the session with the digest (PUT ?digest=), which the registry
// checks against what it received. Chunks rather than one streamed PATCH:
// a registry makes each one durable when it ends (Distribution fsyncs it),
// which then happens while the blob is still being built, not all at the
// end; and a chunk that fails is resumed from what the registry holds.
type Stream struct {
	u       *uploader
	cancel  context.CancelFunc
	aborted sync.Once
	done    chan struct{} // closed when the last chunk has been sent
	// Set by the sender, read after done.
	loc  string // the session's latest location: where to PUT, or DELETE
	sent int64
	err  error
}

// StartStream opens an upload session in the repository whose API base is
// repoURL and sends src into it, chunkSize bytes per PATCH, resuming a
// failed chunk as often in a row without progress as policy retries.
// Finish or Abort must follow.
func StartStream(ctx context.Context, client Doer, repoURL string, src Source, chunkSize int64, policy *transport.Policy) (*Stream, error) {
	if chunkSize <= 0 {
		return nil, errors.New("chunk size must be positive")
	}
	ctx, cancel := context.WithCancel(ctx)
	u, err := newUploader(ctx, client, repoURL)
	if err != nil {
		cancel()
		return nil, err
	}
	loc, err := u.start(repoURL + "/blobs/uploads/")
	if err != nil {
		cancel()
		return nil, fmt.Errorf("starting upload: %w", err)
	}
	s := &Stream{u: u, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		s.loc, s.sent, s.err = u.sendChunks(loc, src, src.Ready, chunkSize, policy)
	}()
	return s, nil
}

// Finish waits for the last chunk to be sent and closes the upload as desc. On
// an error the session is abandoned: the caller uploads the blob again
// some other way.
func (s *Stream) Finish(desc ocispec.Descriptor) error {
	<-s.done
	err := s.err
	if err == nil && s.sent != desc.Size {
		err = fmt.Errorf("sent %d bytes of a blob of %d", s.sent, desc.Size)
	}
	if err == nil {
		err = s.u.finish(s.loc, desc)
	}
	if err != nil {
		s.Abort()
		return err
	}
	s.cancel()
	return nil
}

// abortTimeout bounds the requests that cancel an abandoned session, and
// abortAttempts their number.
const (
	abortTimeout  = 5 * time.Second
	abortAttempts = 5
)

// Abort stops the upload and asks the registry to drop what it received
// (DELETE on the session, which registries may refuse: it then expires).
func (s *Stream) Abort() {
	s.aborted.Do(func() {
		s.cancel()
		<-s.done
		s.u.abandon(s.loc)
	})
}

// abandon asks the registry to drop the session at loc (DELETE), within
// abortTimeout even when u's context is done. A registry may refuse: the
// session then expires.
func (u *uploader) abandon(loc string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(u.ctx), abortTimeout)
	defer cancel()
	u = &uploader{ctx: ctx, client: u.client, registry: u.registry}
	// A chunk cut off by the cancel may move the session on, even
	// after the cancel while the registry stores what it had received:
	// Distribution refuses (416) a DELETE that names an older offset,
	// and its status says the current one.
	for attempt := 1; ; attempt++ {
		resp, err := u.do(http.MethodDelete, loc)
		if err != nil {
			return
		}
		drain(resp)
		if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable || attempt == abortAttempts {
			return
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			return
		}
		if _, current, err := u.status(loc); err == nil {
			loc = current
		}
	}
}
