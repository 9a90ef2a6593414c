package upload

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Stream uploads a blob while it is still being written, before its digest
// is known: POST opens an upload session, one PATCH sends the body as it
// comes (chunked transfer encoding, as `docker push` sends its layers), and
// Finish closes the session with the digest (PUT ?digest=), which the
// registry checks against what it received.
type Stream struct {
	u       *uploader
	cancel  context.CancelFunc
	aborted sync.Once
	session string        // the upload's URL, from the POST
	done    chan struct{} // closed when the PATCH has ended
	// Set by the PATCH, read after done.
	loc      string // where to PUT
	received int64  // what the registry says it holds; -1: it did not say
	err      error
}

// StartStream opens an upload session in the repository whose API base is
// repoURL and starts sending body into it. body must end (io.EOF) when the
// blob is complete; Finish or Abort must follow.
func StartStream(ctx context.Context, client Doer, repoURL string, body io.Reader) (*Stream, error) {
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
	s := &Stream{u: u, cancel: cancel, session: loc, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		s.loc, s.received, s.err = u.stream(loc, body)
	}()
	return s, nil
}

// stream sends body in one PATCH without a Content-Range: the registry
// appends whatever arrives.
func (u *uploader) stream(loc string, body io.Reader) (string, int64, error) {
	h := http.Header{}
	h.Set("Content-Type", "application/octet-stream")
	resp, err := u.do(http.MethodPatch, loc, body, -1, h)
	if err != nil {
		return "", 0, err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusAccepted {
		return "", 0, statusError(resp)
	}
	next, err := u.location(resp)
	if err != nil {
		return "", 0, err
	}
	last, ok := rangeEnd(resp.Header.Get("Range"))
	if !ok {
		return next, -1, nil
	}
	return next, last + 1, nil
}

// Finish waits for the body to be sent and closes the upload as desc. On
// an error the session is abandoned: the caller uploads the blob again
// some other way.
func (s *Stream) Finish(desc ocispec.Descriptor) error {
	<-s.done
	err := s.err
	if err == nil && s.received >= 0 && s.received != desc.Size {
		err = fmt.Errorf("registry holds %d bytes of the %d sent", s.received, desc.Size)
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

// abortTimeout bounds the request that cancels an abandoned session.
const abortTimeout = 5 * time.Second

// Abort stops the upload and asks the registry to drop what it received
// (DELETE on the session, which registries may refuse: it then expires).
func (s *Stream) Abort() {
	s.aborted.Do(func() {
		s.cancel()
		<-s.done
		loc := s.session
		if s.loc != "" {
			loc = s.loc
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(s.u.ctx), abortTimeout)
		defer cancel()
		u := &uploader{ctx: ctx, client: s.u.client, registry: s.u.registry}
		if resp, err := u.do(http.MethodDelete, loc, nil, 0, nil); err == nil {
			drain(resp)
		}
	})
}
