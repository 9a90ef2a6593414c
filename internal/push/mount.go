package push

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry"

	"github.com/blobber-dev/blobber/internal/target"
)

// maxMountSources bounds the repositories one blob is asked to be mounted
// from.
const maxMountSources = 3

// errNotMounted is a registry that opened an upload session instead of
// mounting, when the bytes are to come from elsewhere.
var errNotMounted = errors.New("the registry did not mount the blob")

// Mounter asks the registry of one push's target to mount blobs from
// other repositories of that registry, which the cache remembers holding
// them (cross-repository blob mount: POST
// /v2/<name>/blobs/uploads/?mount=<digest>&from=<repository>), so that
// what the registry has is not uploaded again. It also records the blobs
// the target is seen to hold. A nil *Mounter (no cache, or an OCI layout)
// does nothing.
type Mounter struct {
	p     *Policy
	t     *target.Target
	mu    sync.Mutex             // a split push's layers are looked up and uploaded at once
	asked map[digest.Digest]bool // blobs already tried in this push
}

// NewMounter returns the mounter of one push to t, nil where there is
// nothing to mount from.
func (p *Policy) NewMounter(t *target.Target) *Mounter {
	if p.Cache == nil || t.RegistryHost() == "" {
		return nil
	}
	return &Mounter{p: p, t: t, asked: map[digest.Digest]bool{}}
}

// Mount tries to have the registry mount desc into the target and reports
// whether the target now holds it. Repositories are tried in turn while
// the registry refuses (no access to one, say); a registry that opens an
// upload session instead of mounting (202: it cannot, or not from there)
// is not asked again. With open, the blob is uploaded into that session;
// without, the session is cancelled. A failed mount is only logged: the
// caller uploads.
func (m *Mounter) Mount(ctx context.Context, desc ocispec.Descriptor, open func() io.Reader) bool {
	if m == nil || !m.firstAsk(desc.Digest) {
		return false
	}
	for _, repo := range m.sources(desc.Digest) {
		session := false
		var err error
		if open == nil {
			var mounted bool
			mounted, err = m.t.MountOnly(ctx, desc, repo)
			session = err == nil && !mounted
			if session {
				err = errNotMounted
			}
		} else {
			err = m.t.Mount(ctx, desc, repo, func() (io.ReadCloser, error) {
				session = true
				return io.NopCloser(open()), nil
			})
		}
		switch {
		case err == nil && !session:
			m.p.Logger.InfoContext(ctx, "mounted blob", "digest", desc.Digest, "from", repo, "size", desc.Size)
		case err == nil:
			m.p.Logger.DebugContext(ctx, "registry did not mount the blob; uploaded it", "digest", desc.Digest, "from", repo)
		default:
			m.p.Logger.DebugContext(ctx, "blob not mounted", "digest", desc.Digest, "from", repo, "error", err)
			if session || ctx.Err() != nil {
				return false
			}
			continue
		}
		m.Remember(desc)
		return true
	}
	return false
}

// firstAsk reports whether dgst is asked to be mounted for the first time
// in this push, and marks it asked.
func (m *Mounter) firstAsk(dgst digest.Digest) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.asked[dgst] {
		return false
	}
	m.asked[dgst] = true
	return true
}

// sources are the repositories of the target's registry, other than the
// target itself, that the cache remembers holding dgst, most recent first.
func (m *Mounter) sources(dgst digest.Digest) []string {
	var out []string
	for _, name := range m.p.Cache.Sources(dgst) {
		host, repo, _ := strings.Cut(name, "/")
		ref := registry.Reference{Registry: host, Repository: repo}
		if host != m.t.RegistryHost() || name == m.t.Name || ref.Validate() != nil {
			continue
		}
		out = append(out, repo)
		if len(out) == maxMountSources {
			break
		}
	}
	return out
}

// Remember records that the target holds these blobs.
func (m *Mounter) Remember(blobs ...ocispec.Descriptor) {
	if m != nil {
		m.p.RememberSources(m.t, blobs...)
	}
}

// RememberSources records in the cache that t's repository holds these
// blobs, for pushes to other repositories of its registry to mount them.
func (p *Policy) RememberSources(t *target.Target, blobs ...ocispec.Descriptor) {
	if p.Cache == nil || t.RegistryHost() == "" {
		return
	}
	for _, b := range blobs {
		// A cache that cannot be written only costs uploads.
		_ = p.Cache.AddSource(b.Digest, t.Name)
	}
}
