package blobber

import (
	"context"

	"github.com/blobber-dev/blobber/internal/target"
	"github.com/blobber-dev/blobber/internal/upload"
)

// layerSessions hands each layer of a split push that is uploaded while it
// is built an upload session opened before its build begins: the first
// layer gets the session Push opened to check its right to push, and each
// next one a session opened in the background while the layer before it
// builds. Opening a session is a round trip, which the build would
// otherwise wait for once per layer; and the session Push opened would be
// cancelled, one more, once the push is done.
type layerSessions struct {
	ctx   context.Context
	t     *target.Target
	first *upload.Session
	ahead chan *upload.Session // the next layer's, being opened; nil when none is
}

func newLayerSessions(ctx context.Context, t *target.Target, first *upload.Session) *layerSessions {
	return &layerSessions{ctx: ctx, t: t, first: first}
}

// next returns the session of the layer about to be built, and starts
// opening the next layer's when more will follow. It returns nil when the
// session could not be opened: the upload then opens its own.
func (ls *layerSessions) next(more bool) *upload.Session {
	s := ls.first
	ls.first = nil
	if ls.ahead != nil {
		s = <-ls.ahead
		ls.ahead = nil
	}
	if more {
		ahead := make(chan *upload.Session, 1)
		go func() {
			s, err := ls.t.ReservePush(ls.ctx)
			if err != nil {
				s = nil
			}
			ahead <- s
		}()
		ls.ahead = ahead
	}
	return s
}

// release cancels the sessions no layer took.
func (ls *layerSessions) release() {
	ls.first.Release()
	ls.first = nil
	if ls.ahead != nil {
		(<-ls.ahead).Release()
		ls.ahead = nil
	}
}
