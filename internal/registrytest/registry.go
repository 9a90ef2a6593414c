// Package registrytest starts a real CNCF Distribution registry in-process,
// bound to 127.0.0.1, for use by tests, benchmarks and demos: over plain
// HTTP by default, or HTTPS with a CA made for the run (optionally
// requiring client certificates), and open or requiring basic
// authentication or bearer tokens from a token server started beside it.
// A counting reverse proxy (see [Proxy]) lets tests assert how many requests
// and bytes a client actually moved; a forward proxy (see [ForwardProxy])
// stands in for HTTP_PROXY and HTTPS_PROXY.
package registrytest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	"github.com/sirupsen/logrus"

	// Register the filesystem driver with the driver factory; the in-memory
	// driver is registered in memdriver.go.
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
)

// Registry is a running in-process Distribution registry.
type Registry struct {
	app       *handlers.App
	srv       *http.Server
	host      string
	scheme    string
	clientTLS *tls.Config  // trusts the registry (and presents a client certificate if it wants one)
	token     *TokenServer // with WithTokenAuth
	dir       string       // auth files, removed on Close

	closeOnce sync.Once
}

// Option configures a registry started by [Start] or [StartServer].
type Option func(*options)

type options struct {
	fsDir      string
	tlsCA      *CA
	tlsHosts   []string
	clientCA   *CA
	basicUsers map[string]string
	token      *TokenAuth
	referrers  bool
}

// WithTLS serves HTTPS with a certificate that ca issues for 127.0.0.1 and
// any other hosts (IP addresses or DNS names) given.
func WithTLS(ca *CA, hosts ...string) Option {
	return func(o *options) { o.tlsCA, o.tlsHosts = ca, hosts }
}

// WithClientAuth makes an HTTPS registry require a client certificate
// issued by ca (mutual TLS).
func WithClientAuth(ca *CA) Option {
	return func(o *options) { o.clientCA = ca }
}

// WithFilesystem stores registry content under dir using Distribution's
// filesystem driver instead of the default in-memory driver.
func WithFilesystem(dir string) Option {
	return func(o *options) { o.fsDir = dir }
}

// Start starts a registry and closes it when the test finishes.
func Start(t testing.TB, opts ...Option) *Registry {
	t.Helper()
	r, err := StartServer(opts...)
	if err != nil {
		t.Fatalf("registrytest: %v", err)
	}
	t.Cleanup(r.Close)
	return r
}

// StartServer starts a registry listening on 127.0.0.1 on a free port.
// The caller must call Close.
func StartServer(opts ...Option) (_ *Registry, err error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	silenceLogs()
	r := &Registry{scheme: "http"}
	defer func() {
		if err != nil {
			r.cleanup()
		}
	}()

	var serverTLS *tls.Config
	if o.tlsCA != nil {
		if serverTLS, r.clientTLS, err = tlsConfigs(o); err != nil {
			return nil, err
		}
		r.scheme = "https"
	} else if o.clientCA != nil {
		return nil, errors.New("WithClientAuth needs WithTLS")
	}
	cfg := newConfig(o)
	if o.basicUsers != nil || o.token != nil {
		if r.dir, err = os.MkdirTemp("", "registrytest-auth-"); err != nil {
			return nil, err
		}
	}
	switch {
	case o.basicUsers != nil && o.token != nil:
		return nil, errors.New("WithBasicAuth and WithTokenAuth exclude each other")
	case o.basicUsers != nil:
		if cfg.Auth, err = basicAuthConfig(r.dir, o.basicUsers); err != nil {
			return nil, err
		}
	case o.token != nil:
		// The token server shares the registry's certificate, so that the
		// realm is HTTPS when the registry is.
		if r.token, cfg.Auth, err = startTokenServer(*o.token, r.dir, serverTLS); err != nil {
			return nil, err
		}
	}

	// NewApp reports configuration problems by panicking.
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("starting distribution: %v", p)
			}
		}()
		r.app = handlers.NewApp(context.Background(), cfg)
	}()
	if err != nil {
		return nil, err
	}

	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	r.host = ln.Addr().String()
	var handler http.Handler = r.app
	if o.referrers {
		handler = newReferrersAPI(handler)
	}
	if r.token != nil {
		handler = expiryGuard{ts: r.token, next: handler}
	}
	r.srv = &http.Server{Handler: handler, ReadHeaderTimeout: 30 * time.Second, ErrorLog: discardLog}
	if serverTLS != nil {
		ln = tls.NewListener(ln, serverTLS)
	}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

// tlsConfigs returns the registry's TLS configuration and one for clients
// that trust it (with a client certificate when the registry wants one).
func tlsConfigs(o options) (server, client *tls.Config, err error) {
	cert, err := o.tlsCA.IssueServer(append([]string{"127.0.0.1"}, o.tlsHosts...)...)
	if err != nil {
		return nil, nil, err
	}
	server = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	client = &tls.Config{RootCAs: o.tlsCA.Pool(), MinVersion: tls.VersionTLS12}
	if o.clientCA != nil {
		server.ClientAuth = tls.RequireAndVerifyClientCert
		server.ClientCAs = o.clientCA.Pool()
		clientCert, err := o.clientCA.IssueClient("registrytest-client")
		if err != nil {
			return nil, nil, err
		}
		client.Certificates = []tls.Certificate{clientCert}
	}
	return server, client, nil
}

// Host returns the registry's host:port, e.g. "127.0.0.1:41234", suitable
// for image references.
func (r *Registry) Host() string { return r.host }

// URL returns the registry's base URL, e.g. "http://127.0.0.1:41234", or
// "https://…" with WithTLS.
func (r *Registry) URL() string { return r.scheme + "://" + r.host }

// ClientTLS is a TLS configuration that trusts an HTTPS registry (and
// presents a client certificate when it requires one); nil for plain HTTP.
func (r *Registry) ClientTLS() *tls.Config {
	if r.clientTLS == nil {
		return nil
	}
	return r.clientTLS.Clone()
}

// TokenServer is the token server of a registry started with
// WithTokenAuth, or nil.
func (r *Registry) TokenServer() *TokenServer { return r.token }

// Close stops the server, waiting briefly for in-flight requests.
// It is safe to call more than once. Distribution leaves one idle goroutine
// per registry behind (github.com/docker/go-events.(*Broadcaster).run, its
// notification broadcaster, which it never closes).
func (r *Registry) Close() {
	r.closeOnce.Do(func() {
		shutdownServer(r.srv)
		r.cleanup()
	})
}

// cleanup releases what StartServer made besides the registry's listener.
func (r *Registry) cleanup() {
	if r.app != nil {
		_ = r.app.Shutdown()
	}
	if r.token != nil {
		r.token.close()
	}
	if r.dir != "" {
		_ = os.RemoveAll(r.dir)
	}
}

func newConfig(o options) *configuration.Configuration {
	cfg := &configuration.Configuration{}
	cfg.Log.Level = "error"
	cfg.Log.AccessLog.Disabled = true
	cfg.HTTP.Addr = "127.0.0.1:0"
	// A fixed secret avoids a startup warning; it only signs upload state.
	cfg.HTTP.Secret = "registrytest"

	driver, params := memDriverName, configuration.Parameters{}
	if o.fsDir != "" {
		driver, params = "filesystem", configuration.Parameters{"rootdirectory": o.fsDir}
	}
	cfg.Storage = configuration.Storage{
		driver:   params,
		"delete": {"enabled": true},
		// Neither driver can redirect anyway; say so explicitly.
		"redirect": {"disable": true},
		"cache":    {"blobdescriptor": "inmemory"},
		// The purger would otherwise start a background goroutine.
		"maintenance": {"uploadpurging": map[any]any{"enabled": false}},
	}
	// Health checks, notifications and redis stay unconfigured (zero values),
	// so nothing touches the network beyond our own listener.
	return cfg
}

var (
	logOnce sync.Once
	// discardLog silences net/http server errors such as clients hanging up.
	discardLog = log.New(io.Discard, "", 0)
)

// silenceLogs routes Distribution's logging (the logrus standard logger) to
// io.Discard, unless REGISTRYTEST_LOG is set. This is process-wide.
func silenceLogs() {
	logOnce.Do(func() {
		if os.Getenv("REGISTRYTEST_LOG") != "" {
			logrus.SetLevel(logrus.DebugLevel)
			return
		}
		logrus.SetLevel(logrus.ErrorLevel)
		logrus.SetOutput(io.Discard)
	})
}

func shutdownServer(srv *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); errors.Is(err, context.DeadlineExceeded) {
		_ = srv.Close()
	}
}
