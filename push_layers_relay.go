package blobber

import (
	"context"
	"sync"
	"sync/atomic"
)

// buildRelay starts a split push's layer builds one after another, each
// as soon as the build before it has read all its files, rather than once
// that build has ended: what is left of it (compressing its last chunks,
// writing its table of contents) then overlaps the start of the next one,
// where it would leave cores idle between layers. At most two builds run
// at once, and they share one budget of batches in flight
// (layer.ShareMemory): two hold no more than one would.
type buildRelay struct {
	slots chan struct{}   // one per build running
	read  <-chan struct{} // closed once the last build started has read its files
}

func newBuildRelay() *buildRelay {
	return &buildRelay{slots: make(chan struct{}, 2)}
}

// start waits until the next build may begin (or ctx ends), for a group
// whose files hold total bytes. The build reports the bytes it reads to
// progress (which passes them on to also, when not nil), and calls done
// once it has ended, whatever its outcome.
func (r *buildRelay) start(ctx context.Context, total int64, also func(int64)) (progress func(int64), done func(), err error) {
	if r.read != nil {
		select {
		case <-r.read:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
	select {
	case r.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	read := make(chan struct{})
	var once sync.Once
	allRead := func() { once.Do(func() { close(read) }) }
	r.read = read
	if total <= 0 {
		allRead()
	}
	var n atomic.Int64
	progress = func(k int64) {
		if also != nil {
			also(k)
		}
		if n.Add(k) >= total {
			allRead()
		}
	}
	done = func() {
		allRead()
		<-r.slots
	}
	return progress, done, nil
}
