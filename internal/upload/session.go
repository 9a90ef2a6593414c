package upload

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/blobber-dev/blobber/internal/transport"
)

// Session is an upload session opened before its blob exists: opening it
// proves that the registry lets the client push to the repository (POST
// /blobs/uploads/ needs push access), so a push can fail before it reads
// anything. The session is then used for the blob (Stream) or cancelled
// (Release).
type Session struct {
	u    *uploader
	loc  string
	once sync.Once // the session is handed to a stream or released, once
}

// Reserve opens an upload session in the repository whose API base is
// repoURL. Any other answer than 202 Accepted is an
// *errcode.ErrorResponse: a refusal (401, 403), or a registry that does
// not support what this asks, after which the caller may go on without
// the session.
func Reserve(ctx context.Context, client Doer, repoURL string) (*Session, error) {
	u, err := newUploader(ctx, client, repoURL)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, repoURL+"/blobs/uploads/", nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer drain(resp)
	switch resp.StatusCode {
	case http.StatusAccepted:
		loc, err := u.location(resp)
		if err != nil {
			return nil, err
		}
		return &Session{u: u, loc: loc}, nil
	}
	return nil, statusError(resp)
}

// Stream sends src into the session as StartStream does into a session of
// its own. The session is the stream's from then on: Release does nothing.
func (s *Session) Stream(ctx context.Context, src Source, chunkSize int64, policy *transport.Policy) (*Stream, error) {
	if s == nil {
		return nil, errors.New("no upload session")
	}
	if chunkSize <= 0 {
		return nil, errors.New("chunk size must be positive")
	}
	taken := false
	s.once.Do(func() { taken = true })
	if !taken {
		return nil, fmt.Errorf("upload session %s already used or released", s.loc)
	}
	ctx, cancel := context.WithCancel(ctx)
	u := &uploader{ctx: ctx, client: s.u.client, registry: s.u.registry}
	st := &Stream{u: u, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(st.done)
		st.loc, st.sent, st.err = u.sendChunks(s.loc, src, src.Ready, chunkSize, policy)
	}()
	return st, nil
}

// Release cancels the session (DELETE) unless a stream took it. It is safe
// to call more than once, and on a nil *Session.
func (s *Session) Release() {
	if s == nil {
		return
	}
	s.once.Do(func() { s.u.abandon(s.loc) })
}
