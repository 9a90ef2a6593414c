package blobber

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
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
	stats counters
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
	signer      Signer             // signs pushes (sign.go)
	verifier    Verifier           // checks signatures before reading (verify.go)
	platforms   []ocispec.Platform // the entries of an index reads prefer (platform.go)

	// Which of two options that contradict each other were given.
	credentialsGiven, registryConfigGiven bool

	// streamBudget bounds the bytes one file read holds (streamBudget);
	// tests make it small.
	streamBudget int64
}

// Option configures a Client. An option given a value it cannot take
// makes NewClient fail, before anything is opened.
type Option func(*options) error

type invalidOptionError struct{ msg string }

func (e *invalidOptionError) Error() string        { return e.msg }
func (e *invalidOptionError) Is(target error) bool { return target == ErrInvalidOption }

// invalidOption is an ErrInvalidOption that says, in its own words, which
// option was wrong and why.
func invalidOption(format string, args ...any) error {
	return &invalidOptionError{fmt.Sprintf(format, args...)}
}

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
func WithOCILayout() Option {
	return func(o *options) error { o.target.OCILayout = true; return nil }
}

// WithPlainHTTP talks HTTP instead of HTTPS to the registry (false forces
// HTTPS). Without this option registries are spoken to over HTTPS, except
// that a loopback registry (localhost, 127.0.0.0/8, ::1) that does not
// answer TLS is spoken to over plain HTTP, as docker does.
func WithPlainHTTP(plain bool) Option {
	return func(o *options) error { o.target.PlainHTTP = &plain; return nil }
}

// WithInsecureSkipVerify skips TLS certificate verification. It cannot be
// combined with WithTransport, whose transport has its own TLS settings.
func WithInsecureSkipVerify() Option {
	return func(o *options) error { o.target.Insecure = true; return nil }
}

// WithCAFile trusts the PEM certificates in path, on top of the system's
// roots, to sign registries' TLS certificates. It cannot be combined with
// WithTransport, whose transport has its own TLS settings.
func WithCAFile(path string) Option {
	return func(o *options) error {
		if path == "" {
			return invalidOption("WithCAFile: no file named")
		}
		o.target.CAFile = path
		return nil
	}
}

// WithClientCert presents the client certificate in certFile, with the
// private key in keyFile (both PEM), to registries that require one. It
// cannot be combined with WithTransport, whose transport has its own TLS
// settings.
func WithClientCert(certFile, keyFile string) Option {
	return func(o *options) error {
		if certFile == "" || keyFile == "" {
			return invalidOption("WithClientCert: a client certificate needs both a certificate file and a key file")
		}
		o.target.CertFile, o.target.KeyFile = certFile, keyFile
		return nil
	}
}

// WithRegistryConfig takes credentials from a docker config file, as docker
// does: its "auths", identity tokens, "credsStore" and "credHelpers"
// (docker-credential-* programs). path "" means docker's own,
// $DOCKER_CONFIG/config.json or else ~/.docker/config.json. The file is
// read when a registry first asks for credentials. It cannot be combined
// with WithCredentials.
func WithRegistryConfig(path string) Option {
	return func(o *options) error {
		o.target.Credential = credential.Lazy(path)
		o.registryConfigGiven = true
		return nil
	}
}

// WithCredentials resolves the credential for a registry host
// (oras-go's auth.CredentialFunc; see oras.land/oras-go/v2/registry/remote/credentials
// for the docker config and credential helpers). It cannot be combined
// with WithRegistryConfig.
func WithCredentials(fn auth.CredentialFunc) Option {
	return func(o *options) error {
		o.target.Credential = fn
		o.credentialsGiven = true
		return nil
	}
}

// WithTransport sets the HTTP transport under authentication and retries.
// Its TLS settings are its own: it cannot be combined with WithCAFile,
// WithClientCert or WithInsecureSkipVerify.
func WithTransport(rt http.RoundTripper) Option {
	return func(o *options) error { o.target.Transport = rt; return nil }
}

// WithRetries sets how many times a failed request is retried (408, 429,
// 5xx, resets and timeouts, with exponential backoff and Retry-After); the
// default is 5, and a negative n turns retries off.
func WithRetries(n int) Option {
	return func(o *options) error { o.target.Retries = n; return nil }
}

// WithUserAgent sets the User-Agent header of registry requests.
func WithUserAgent(ua string) Option {
	return func(o *options) error { o.target.UserAgent = ua; return nil }
}

// WithLogger turns on logging; the client logs nothing by default.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error { o.logger = l; return nil }
}

// WithConcurrency sets how many range requests and chunk decoders run at
// once when reading; the default is 2 per CPU, from 4 to 16. However many,
// one file read holds at most 64 MiB of chunks (or one bigger chunk).
func WithConcurrency(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return invalidOption("WithConcurrency(%d): at least 1 is needed", n)
		}
		o.concurrency = n
		return nil
	}
}

// WithLimits sets the limits on what an artifact may declare; a limit
// cannot be negative.
func WithLimits(l Limits) Option {
	return func(o *options) error {
		if l.MaxFiles < 0 || l.MaxBytes < 0 || l.MaxTOCBytes < 0 {
			return invalidOption("WithLimits(%+v): a limit cannot be negative (0 takes the default)", l)
		}
		o.limits = l
		return nil
	}
}

// NewClient returns a client with the given options. It fails, before
// anything is opened, with the first option given a value it cannot take,
// or with options that contradict each other (ErrInvalidOption).
func NewClient(opts ...Option) (*Client, error) {
	// Each range in flight holds its bytes in memory: the default grows
	// with the CPUs that decode them, up to 16.
	o := options{concurrency: max(4, min(16, 2*runtime.GOMAXPROCS(0))), streamBudget: streamBudget}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if err := o.contradiction(); err != nil {
		return nil, err
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	o.target.Logger = o.logger
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

// contradiction refuses options that cannot both hold: without it, one of
// them would be silently ignored.
func (o *options) contradiction() error {
	if o.target.Transport != nil {
		var tlsOption string
		switch {
		case o.target.CAFile != "":
			tlsOption = "WithCAFile"
		case o.target.CertFile != "":
			tlsOption = "WithClientCert"
		case o.target.Insecure:
			tlsOption = "WithInsecureSkipVerify"
		case o.registryTLSGiven() != "":
			tlsOption = "WithRegistry(" + o.registryTLSGiven() + ")"
		}
		if tlsOption != "" {
			return invalidOption("WithTransport and %s contradict each other: the transport given has its own TLS settings, which %s would not change", tlsOption, tlsOption)
		}
	}
	if o.credentialsGiven && o.registryConfigGiven {
		return invalidOption("WithCredentials and WithRegistryConfig contradict each other: give one source of credentials")
	}
	return nil
}

func (c *Client) tocLimits() toc.Limits {
	return toc.Limits{MaxEntries: c.opts.limits.MaxFiles, MaxBytes: c.opts.limits.MaxBytes, MaxTOCBytes: c.opts.limits.MaxTOCBytes}
}

// maxTOCBytes is the most TOC JSON an artifact may have, as set or by
// default; a split push's config, holding its layers' TOCs, is bounded by
// it too.
func (c *Client) maxTOCBytes() int64 {
	if set := c.opts.limits.MaxTOCBytes; set > 0 {
		return set
	}
	return toc.DefaultMaxTOCBytes
}

// retryPolicy is the one retry policy of WithRetries (see
// transport.Policy), for the loops that retry whole uploads.
func (o *options) retryPolicy() *transport.Policy { return transport.NewPolicy(o.target.Retries) }
