package blobber

import (
	"log/slog"
	"net/http"
	"runtime"
	"time"

	"oras.land/oras-go/v2/registry/remote/auth"

	"github.com/blobber-dev/blobber/internal/cache"
	"github.com/blobber-dev/blobber/internal/credential"
	"github.com/blobber-dev/blobber/internal/target"
	"github.com/blobber-dev/blobber/internal/toc"
	"github.com/blobber-dev/blobber/internal/transport"
)

// Client pushes and reads artifacts. It is safe for concurrent use.
type Client struct {
	opts  options
	cache *cache.Cache // nil without WithCache
}

type options struct {
	target      target.Options
	logger      *slog.Logger
	concurrency int
	limits      Limits
	progress    ProgressFunc
	cacheDir    string
	cacheTTL    time.Duration
	cacheBound  int64 // WithCacheMaxSize
	offline     bool
	signer      Signer   // signs pushes (sign.go)
	verifier    Verifier // checks signatures before reading (verify.go)

	// streamBudget bounds the bytes one file read holds (streamBudget);
	// tests make it small.
	streamBudget int64
}

// Option configures a Client.
type Option func(*options)

// Limits bound what an artifact may declare before blobber refuses it,
// from its table of contents and before anything is written. Zero fields
// take the defaults (a million entries, 64 GiB of files, and a TOC of 384
// bytes for each entry MaxFiles allows, at most 128 MiB).
type Limits struct {
	MaxFiles    int   // files, directories, links, and chunks of files
	MaxBytes    int64 // total size of the files
	MaxTOCBytes int64 // the TOC JSON, uncompressed
}

// WithOCILayout makes references name OCI image layout directories
// ("path[:tag|@digest]") instead of registry repositories.
func WithOCILayout() Option { return func(o *options) { o.target.OCILayout = true } }

// WithPlainHTTP talks HTTP instead of HTTPS to the registry (false forces
// HTTPS). Without this option registries are spoken to over HTTPS, except
// that a loopback registry (localhost, 127.0.0.0/8, ::1) that does not
// answer TLS is spoken to over plain HTTP, as docker does.
func WithPlainHTTP(plain bool) Option {
	return func(o *options) { o.target.PlainHTTP = &plain }
}

// WithInsecureSkipVerify skips TLS certificate verification.
func WithInsecureSkipVerify() Option { return func(o *options) { o.target.Insecure = true } }

// WithCAFile trusts the PEM certificates in path, on top of the system's
// roots, to sign registries' TLS certificates. (With WithTransport, the
// given transport's own TLS settings apply instead.)
func WithCAFile(path string) Option { return func(o *options) { o.target.CAFile = path } }

// WithClientCert presents the client certificate in certFile, with the
// private key in keyFile (both PEM), to registries that require one.
func WithClientCert(certFile, keyFile string) Option {
	return func(o *options) { o.target.CertFile, o.target.KeyFile = certFile, keyFile }
}

// WithRegistryConfig takes credentials from a docker config file, as docker
// does: its "auths", identity tokens, "credsStore" and "credHelpers"
// (docker-credential-* programs). path "" means docker's own,
// $DOCKER_CONFIG/config.json or else ~/.docker/config.json. The file is
// read when a registry first asks for credentials.
func WithRegistryConfig(path string) Option {
	return func(o *options) { o.target.Credential = credential.Lazy(path) }
}

// WithCredentials resolves the credential for a registry host
// (oras-go's auth.CredentialFunc; see oras.land/oras-go/v2/registry/remote/credentials
// for the docker config and credential helpers).
func WithCredentials(fn auth.CredentialFunc) Option {
	return func(o *options) { o.target.Credential = fn }
}

// WithTransport sets the HTTP transport under authentication and retries.
func WithTransport(rt http.RoundTripper) Option {
	return func(o *options) { o.target.Transport = rt }
}

// WithRetries sets how many times a failed request is retried (408, 429,
// 5xx, resets and timeouts, with exponential backoff and Retry-After); the
// default is 5, and a negative n turns retries off.
func WithRetries(n int) Option { return func(o *options) { o.target.Retries = n } }

// WithUserAgent sets the User-Agent header of registry requests.
func WithUserAgent(ua string) Option { return func(o *options) { o.target.UserAgent = ua } }

// WithLogger turns on logging; the client logs nothing by default.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithConcurrency sets how many range requests and chunk decoders run at
// once when reading; the default is 2 per CPU, from 4 to 16. However many,
// one file read holds at most 64 MiB of chunks (or one bigger chunk).
func WithConcurrency(n int) Option { return func(o *options) { o.concurrency = n } }

// WithLimits sets the limits on what an artifact may declare.
func WithLimits(l Limits) Option { return func(o *options) { o.limits = l } }

// NewClient returns a client with the given options.
func NewClient(opts ...Option) (*Client, error) {
	// Each range in flight holds its bytes in memory: the default grows
	// with the CPUs that decode them, up to 16.
	o := options{concurrency: max(4, min(16, 2*runtime.GOMAXPROCS(0))), streamBudget: streamBudget}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	if o.concurrency < 1 {
		o.concurrency = 1
	}
	if !o.target.OCILayout && o.target.Client == nil {
		// One HTTP client for all of this Client's operations: connections
		// and tokens (cached per scope) are reused from one to the next.
		hc, err := o.target.HTTPClient()
		if err != nil {
			return nil, err
		}
		o.target.Client = hc
	}
	c := &Client{opts: o}
	if err := c.openCache(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Client) tocLimits() toc.Limits {
	return toc.Limits{MaxEntries: c.opts.limits.MaxFiles, MaxBytes: c.opts.limits.MaxBytes, MaxTOCBytes: c.opts.limits.MaxTOCBytes}
}

// retryPolicy is the one retry policy of WithRetries (see
// transport.Policy), for the loops that retry whole uploads.
func (o *options) retryPolicy() *transport.Policy { return transport.NewPolicy(o.target.Retries) }
