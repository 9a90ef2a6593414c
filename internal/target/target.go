package target

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content/oci"
	orasdef "oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"

	"github.com/blobber-dev/blobber/internal/errdef"
	"github.com/blobber-dev/blobber/internal/fetch"
	"github.com/blobber-dev/blobber/internal/transport"
	"github.com/blobber-dev/blobber/internal/upload"
)

// Options say how to reach targets.
type Options struct {
	OCILayout bool  // references are OCI layout directories
	PlainHTTP *bool // nil: HTTPS, except plain HTTP for a loopback registry that does not speak TLS
	Insecure  bool  // skip TLS verification
	CAFile    string
	CertFile  string // client certificate, with KeyFile
	KeyFile   string
	// Credential resolves the credential for a registry host. auth.Client
	// sends it only to that host (dropping Authorization on redirects that
	// leave it) and to the token realm the host names.
	Credential auth.CredentialFunc
	Transport  http.RoundTripper // under the retries; nil: a tuned clone of http.DefaultTransport
	Retries    int               // 0: transport.DefaultRetries; <0: none
	UserAgent  string
	// Client, when set, is used for every registry target instead of a new
	// one: its connections and token cache are shared (see HTTPClient).
	Client *auth.Client
	// Registries are settings of particular registry hosts, and their
	// mirrors (registries.go, mirrors.go).
	Registries map[string]Registry
	Logger     *slog.Logger // nil: nothing is logged
	Debug      *slog.Logger // every HTTP request and the plain-HTTP fallback; nil: none
}

// HTTPClient builds the authenticated HTTP client these options describe,
// for a caller that opens many targets and wants them to share connections
// and tokens (set it as Options.Client).
func (o Options) HTTPClient() (*auth.Client, error) { return o.client() }

// Target is one repository (or layout) and the reference to read or write
// in it.
type Target struct {
	Name      string // for messages
	Reference string // tag or digest; "" when none was given
	Store     oras.Target
	// Retry is the retry policy of Options.Retries, which the transport
	// applies to each request and the loops above it to what a request
	// cannot redo (see transport.Policy).
	Retry *transport.Policy
	repo  *remote.Repository // nil for a layout
	// mirrors are asked first for what is read (mirrors.go).
	mirrors []*remote.Repository
	log     *slog.Logger
}

// ReadBlob is an open blob: random access plus its size.
type ReadBlob interface {
	io.ReaderAt
	io.Closer
	Size() int64
}

// Open returns the target named by ref. With create, a missing OCI layout
// is created (for push); without it, a missing layout is not found.
func Open(ctx context.Context, ref string, opts Options, create bool) (*Target, error) {
	if opts.OCILayout {
		t, err := openLayout(ctx, ref, create)
		if err != nil {
			return nil, err
		}
		t.Retry = transport.NewPolicy(opts.Retries)
		return t, nil
	}
	r, err := ParseRegistry(ref)
	if err != nil {
		return nil, err
	}
	repo, err := opts.repository(ctx, r)
	if err != nil {
		return nil, err
	}
	name := r.Registry + "/" + r.Repository
	t := &Target{Name: name, Reference: r.Reference, Store: repo, Retry: transport.NewPolicy(opts.Retries), repo: repo, log: opts.Logger}
	if !create {
		// What is pushed goes to the origin only, and is read back from it.
		t.mirrors = opts.openMirrors(ctx, r, repo.Client)
	}
	return t, nil
}

func (o Options) repository(ctx context.Context, r registry.Reference) (*remote.Repository, error) {
	client, err := o.client()
	if err != nil {
		return nil, err
	}
	return &remote.Repository{
		Client:               client,
		Reference:            r,
		PlainHTTP:            o.plainHTTP(ctx, r.Registry),
		TagListMaxPages:      MaxTagPages,
		ReferrerListMaxPages: MaxReferrerPages,
	}, nil
}

// Pagination follows the registry's Link headers, so a registry that
// always names a next page would be followed forever: these bound the
// pages a listing fetches (each at most oras-go's MaxMetadataBytes).
const (
	// MaxTagPages allows a hundred thousand tags at a registry's usual
	// hundred per page.
	MaxTagPages = 1000
	// MaxReferrerPages is far more than the signatures a read considers
	// need, even among many other referrers.
	MaxReferrerPages = 64
	// MaxTagBytes bounds the names a tag listing keeps in memory.
	MaxTagBytes = 64 << 20
)

// ErrTooManyTags: a tag listing passed MaxTagPages or MaxTagBytes.
var ErrTooManyTags = errdef.Kind("too many tags", errdef.ErrLimitExceeded)

// NewRegistry returns the registry at host (host[:port]), reached as
// repositories are; login uses it to check credentials.
func NewRegistry(ctx context.Context, host string, opts Options) (*remote.Registry, error) {
	r := registry.Reference{Registry: host}
	if err := r.ValidateRegistry(); err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrInvalidReference, host, err)
	}
	client, err := opts.client()
	if err != nil {
		return nil, err
	}
	return &remote.Registry{RepositoryOptions: remote.RepositoryOptions{
		Client:               client,
		Reference:            r,
		PlainHTTP:            opts.plainHTTP(ctx, host),
		TagListMaxPages:      MaxTagPages,
		ReferrerListMaxPages: MaxReferrerPages,
	}}, nil
}

func (o Options) client() (*auth.Client, error) {
	if o.Client != nil {
		return o.Client, nil
	}
	tlsConfig, err := transport.TLS{Insecure: o.Insecure, CAFile: o.CAFile, CertFile: o.CertFile, KeyFile: o.KeyFile}.Config()
	if err != nil {
		return nil, err
	}
	rt, err := o.roundTripper(tlsConfig)
	if err != nil {
		return nil, err
	}
	header := http.Header{}
	if o.UserAgent != "" {
		header.Set("User-Agent", o.UserAgent)
	}
	return &auth.Client{
		Client:     &http.Client{Transport: checkManifests{rt}},
		Header:     header,
		Credential: o.Credential,
		Cache:      auth.NewCache(),
	}, nil
}

// plainHTTP decides the scheme: as told, else HTTPS, except for a registry
// on this machine that does not answer TLS (docker tries HTTPS first on
// loopback too, then falls back to HTTP).
func (o Options) plainHTTP(ctx context.Context, host string) bool {
	if r, ok := o.registry(host); ok && r.PlainHTTP != nil {
		return *r.PlainHTTP
	}
	if o.PlainHTTP != nil {
		return *o.PlainHTTP
	}
	if !IsLoopback(host) || transport.SpeaksTLS(ctx, host) {
		return false
	}
	if o.Debug != nil {
		o.Debug.DebugContext(ctx, "registry on this machine does not speak TLS; using plain HTTP", "registry", host)
	}
	return true
}

func openLayout(ctx context.Context, ref string, create bool) (*Target, error) {
	dir, reference, err := ParseLayout(ref)
	if err != nil {
		return nil, err
	}
	t := &Target{Name: dir, Reference: reference}
	if !create {
		if _, err := os.Stat(dir + "/" + ocispec.ImageLayoutFile); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("OCI layout %s: %w", dir, errdef.ErrNotFound)
			}
			return nil, err
		}
	}
	store, err := oci.NewWithContext(ctx, dir)
	if err != nil {
		return nil, fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	t.Store = store
	return t, nil
}

// OpenBlob opens a blob described by desc for random access.
func (t *Target) OpenBlob(ctx context.Context, desc ocispec.Descriptor) (ReadBlob, error) {
	if len(t.mirrors) > 0 {
		return t.openMirroredBlob(ctx, desc), nil
	}
	if t.repo != nil {
		ctx = auth.AppendRepositoryScope(ctx, t.repo.Reference, auth.ActionPull)
		url := t.repoURL() + "/blobs/" + desc.Digest.String()
		return fetch.NewBlob(ctx, t.repo.Client, url, desc.Size).WithDigest(desc.Digest).WithPolicy(t.Retry), nil
	}
	rc, err := t.Store.Fetch(ctx, desc)
	if err != nil {
		return nil, err
	}
	f, ok := rc.(interface {
		io.ReaderAt
		Stat() (fs.FileInfo, error)
	})
	if !ok {
		rc.Close()
		return nil, fmt.Errorf("OCI layout blob %s does not allow random access", desc.Digest)
	}
	info, err := f.Stat()
	if err != nil {
		rc.Close()
		return nil, err
	}
	if info.Size() != desc.Size {
		rc.Close()
		return nil, fmt.Errorf("OCI layout blob %s has %d bytes, the manifest says %d: %w", desc.Digest, info.Size(), desc.Size, ErrSizeMismatch)
	}
	return fileBlob{ReaderAt: f, Closer: rc, size: desc.Size}, nil
}

// ErrSizeMismatch: a blob's size is not what its descriptor says.
// It is a kind of ErrDigestMismatch: the bytes cannot be the ones named.
var ErrSizeMismatch = errdef.Kind("blob size differs from its descriptor", errdef.ErrDigestMismatch)

// repoURL is the registry API base of the repository: scheme://host/v2/name.
func (t *Target) repoURL() string { return repoURL(t.repo) }

func repoURL(repo *remote.Repository) string {
	scheme := "https"
	if repo.PlainHTTP {
		scheme = "http"
	}
	return fmt.Sprintf("%s://%s/v2/%s", scheme, repo.Reference.Host(), repo.Reference.Repository)
}

// PushChunked uploads a blob to a registry chunkSize bytes at a time,
// resuming a failed chunk from what the registry has. A layout target
// takes the blob whole.
func (t *Target) PushChunked(ctx context.Context, desc ocispec.Descriptor, r io.ReaderAt, chunkSize int64) error {
	if t.repo == nil {
		return t.Store.Push(ctx, desc, io.NewSectionReader(r, 0, desc.Size))
	}
	ctx = auth.AppendRepositoryScope(ctx, t.repo.Reference, auth.ActionPull, auth.ActionPush)
	return upload.Chunked(ctx, t.repo.Client, t.repoURL(), desc, r, chunkSize, t.Retry)
}

// StreamUpload starts uploading a blob whose digest is not known yet, in
// chunks of chunkSize as src grows (upload.Stream). A layout has no
// upload: errors.ErrUnsupported.
func (t *Target) StreamUpload(ctx context.Context, src upload.Source, chunkSize int64) (*upload.Stream, error) {
	if t.repo == nil {
		return nil, errors.ErrUnsupported
	}
	ctx = auth.AppendRepositoryScope(ctx, t.repo.Reference, auth.ActionPull, auth.ActionPush)
	return upload.StartStream(ctx, t.repo.Client, t.repoURL(), src, chunkSize, t.Retry)
}

// Mount asks the registry to link the blob desc into the target's
// repository from fromRepo, another repository of the same registry, so
// that no byte is uploaded (oras-go's Repository.Mount; the token asked for
// covers pull on fromRepo). A registry that does not mount it opens an
// upload session instead, and getContent's bytes are uploaded into it; an
// error from getContent abandons the session and is returned. A layout
// cannot mount: errors.ErrUnsupported.
func (t *Target) Mount(ctx context.Context, desc ocispec.Descriptor, fromRepo string, getContent func() (io.ReadCloser, error)) error {
	if t.repo == nil {
		return errors.ErrUnsupported
	}
	return t.repo.Mount(ctx, desc, fromRepo, getContent)
}

// MountOnly asks the registry to link the blob desc into the target's
// repository from fromRepo without uploading anything, and reports whether
// it did; the upload session a registry opens instead is cancelled
// (upload.MountOnly). It asks for the same token scopes as Mount. A layout
// cannot mount: errors.ErrUnsupported.
func (t *Target) MountOnly(ctx context.Context, desc ocispec.Descriptor, fromRepo string) (bool, error) {
	if t.repo == nil {
		return false, errors.ErrUnsupported
	}
	ctx = auth.AppendRepositoryScope(ctx, t.repo.Reference, auth.ActionPull, auth.ActionPush)
	from := t.repo.Reference
	from.Repository = fromRepo
	ctx = auth.AppendRepositoryScope(ctx, from, auth.ActionPull)
	return upload.MountOnly(ctx, t.repo.Client, t.repoURL(), desc.Digest, fromRepo)
}

// Tags lists the tags of the target's repository.
func (t *Target) Tags(ctx context.Context) ([]string, error) {
	lister, ok := t.Store.(registry.TagLister)
	if !ok {
		return nil, errors.New("this target cannot list tags")
	}
	var tags []string
	var size int
	err := lister.Tags(ctx, "", func(page []string) error {
		for _, tag := range page {
			size += len(tag)
		}
		if size > MaxTagBytes {
			return fmt.Errorf("the tag names pass %d MiB: %w", MaxTagBytes>>20, ErrTooManyTags)
		}
		tags = append(tags, page...)
		return nil
	})
	if errors.Is(err, orasdef.ErrTooManyPages) {
		err = fmt.Errorf("the registry still names a next page after %d pages: %w", MaxTagPages, ErrTooManyTags)
	}
	return tags, err
}

// RegistryHost is the registry's host for a registry target, "" for a layout.
func (t *Target) RegistryHost() string {
	if t.repo == nil {
		return ""
	}
	return t.repo.Reference.Registry
}

type fileBlob struct {
	io.ReaderAt
	io.Closer
	size int64
}

func (f fileBlob) Size() int64 { return f.size }
