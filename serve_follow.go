package blobber

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/blobber-dev/blobber/internal/target"
)

// Following serves what a tag names, and switches to the artifact the tag
// names next when it moves (Client.Follow). It is an http.Handler.
type Following struct {
	client *Client
	ctx    context.Context
	target *target.Target
	opts   []ServeOption

	current  atomic.Pointer[generation]
	refresh  sync.Mutex // one refresh at a time
	stop     context.CancelFunc
	done     chan struct{}
	closeOne sync.Once
}

// generation is one artifact being served. It is closed once it is no
// longer current and the last request it serves has ended: refs counts
// one for being current and one per request.
type generation struct {
	img     *Image
	handler http.Handler
	refs    atomic.Int64
}

// acquire takes a reference for a request, unless the generation has
// already been let go (it then must not be used).
func (g *generation) acquire() bool {
	for {
		n := g.refs.Load()
		if n == 0 {
			return false
		}
		if g.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

func (g *generation) release() {
	if g.refs.Add(-1) == 0 {
		_ = g.img.Close()
	}
}

// Follow opens the artifact the tag in ref names and serves it (see
// Image.Handler), then resolves the tag again every interval: when it
// names another manifest, that artifact is opened and served from then
// on, atomically. Requests in flight finish on the artifact they began
// on, which is closed once they have. A refresh that fails is logged
// through the client's logger and the artifact served stays. ref must be
// a tag (a digest never moves) and interval positive; otherwise the error
// matches ErrInvalidOption. Reads use ctx; Close stops the refreshes.
func (c *Client) Follow(ctx context.Context, ref string, interval time.Duration, opts ...ServeOption) (*Following, error) {
	if interval <= 0 {
		return nil, invalidOption("Follow: the refresh interval must be positive, not %s", interval)
	}
	t, err := target.Open(ctx, ref, c.opts.target, false)
	if err != nil {
		return nil, classify(err)
	}
	if _, err := digest.Parse(t.Reference); err == nil {
		return nil, invalidOption("Follow: %s names a digest, which never moves: follow a tag", ref)
	}
	if t.Reference == "" {
		t.Reference = "latest"
	}
	f := &Following{client: c, ctx: ctx, target: t, opts: opts, done: make(chan struct{})}
	img, err := c.Open(ctx, ref)
	if err != nil {
		return nil, err
	}
	f.swap(img)
	loopCtx, stop := context.WithCancel(ctx)
	f.stop = stop
	go f.loop(loopCtx, interval)
	return f, nil
}

// Descriptor is the manifest currently served.
func (f *Following) Descriptor() ocispec.Descriptor {
	if g := f.current.Load(); g != nil {
		return g.img.Descriptor()
	}
	return ocispec.Descriptor{}
}

func (f *Following) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for {
		g := f.current.Load()
		if g == nil {
			http.Error(w, "503 service unavailable: closed", http.StatusServiceUnavailable)
			return
		}
		if g.acquire() {
			defer g.release()
			g.handler.ServeHTTP(w, r)
			return
		}
		// g was swapped out and closed between Load and acquire: the
		// current generation is a newer one.
	}
}

// Refresh resolves the tag now, and switches to the artifact it names if
// that is not the one served. It reports whether it switched.
func (f *Following) Refresh(ctx context.Context) (bool, error) {
	f.refresh.Lock()
	defer f.refresh.Unlock()
	desc, err := f.target.Reads().Resolve(ctx, f.target.Reference)
	if err != nil {
		return false, wrapf(err, "resolving %s:%s", f.target.Name, f.target.Reference)
	}
	g := f.current.Load()
	if g == nil || g.img.Descriptor().Digest == desc.Digest {
		return false, nil
	}
	pinned := *f.target
	pinned.Reference = desc.Digest.String()
	art, err := f.client.resolve(ctx, &pinned)
	if err != nil {
		return false, err
	}
	img, err := f.client.openArtifact(f.ctx, &pinned, art)
	if err != nil {
		return false, err
	}
	if !f.swap(img) {
		_ = img.Close()
		return false, nil
	}
	f.client.opts.logger.InfoContext(ctx, "serving what the tag names now",
		"tag", f.target.Name+":"+f.target.Reference, "artifact", img.Name(), "before", g.img.Name())
	return true, nil
}

// swap makes img the one served and lets the previous one go. After
// Close it refuses (false).
func (f *Following) swap(img *Image) bool {
	g := &generation{img: img, handler: img.Handler(f.opts...)}
	g.refs.Store(1)
	for {
		old := f.current.Load()
		if old == nil && f.stop != nil {
			return false // closed
		}
		if f.current.CompareAndSwap(old, g) {
			if old != nil {
				old.release()
			}
			return true
		}
	}
}

func (f *Following) loop(ctx context.Context, interval time.Duration) {
	defer close(f.done)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if _, err := f.Refresh(ctx); err != nil && ctx.Err() == nil {
			f.client.opts.logger.WarnContext(ctx, "could not refresh the tag; still serving the artifact it named before",
				"tag", f.target.Name+":"+f.target.Reference, "error", err)
		}
	}
}

// Close stops the refreshes and closes the artifact served once the
// requests in flight have ended. Requests after Close get 503.
func (f *Following) Close() error {
	f.closeOne.Do(func() {
		f.stop()
		<-f.done
		f.refresh.Lock()
		defer f.refresh.Unlock()
		if old := f.current.Swap(nil); old != nil {
			old.release()
		}
	})
	return nil
}
