// Package registrytest starts a real CNCF Distribution registry in-process,
// bound to 127.0.0.1 over plain HTTP, for use by tests, benchmarks and demos.
// A counting reverse proxy (see [Proxy]) lets tests assert how many requests
// and bytes a client actually moved.
package registrytest

import (
	"context"
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
	app  *handlers.App
	srv  *http.Server
	host string

	closeOnce sync.Once
}

// Option configures a registry started by [Start] or [StartServer].
type Option func(*options)

type options struct {
	fsDir string
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

	// NewApp reports configuration problems by panicking.
	var app *handlers.App
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("starting distribution: %v", p)
			}
		}()
		app = handlers.NewApp(context.Background(), newConfig(o))
	}()
	if err != nil {
		return nil, err
	}

	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		_ = app.Shutdown()
		return nil, fmt.Errorf("listen: %w", err)
	}
	r := &Registry{
		app:  app,
		srv:  &http.Server{Handler: app, ReadHeaderTimeout: 30 * time.Second, ErrorLog: discardLog},
		host: ln.Addr().String(),
	}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

// Host returns the registry's host:port, e.g. "127.0.0.1:41234", suitable
// for image references.
func (r *Registry) Host() string { return r.host }

// URL returns the registry's base URL, e.g. "http://127.0.0.1:41234".
func (r *Registry) URL() string { return "http://" + r.host }

// Close stops the server, waiting briefly for in-flight requests.
// It is safe to call more than once. Distribution leaves one idle goroutine
// per registry behind (github.com/docker/go-events.(*Broadcaster).run, its
// notification broadcaster, which it never closes).
func (r *Registry) Close() {
	r.closeOnce.Do(func() {
		shutdownServer(r.srv)
		_ = r.app.Shutdown()
	})
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
