package target

import (
	"crypto/tls"
	"fmt"
	"net/http"

	"oras.land/oras-go/v2/registry"

	"github.com/blobber-dev/blobber/internal/transport"
)

// Registry holds the settings of one registry host, which take the place
// of the Options' own for requests to that host.
type Registry struct {
	PlainHTTP *bool  // nil: as Options.PlainHTTP
	CAFile    string // "": Options.CAFile
	CertFile  string // with KeyFile; "": Options.CertFile and KeyFile
	KeyFile   string
	// Mirrors are registries (host[:port]) asked first, in order, for
	// what is read from this one (see mirrors.go).
	Mirrors []string
}

// registry returns the settings of host, the way a reference spells it
// (docker.io for Docker Hub) or the way a request's URL does.
func (o Options) registry(host string) (Registry, bool) {
	if r, ok := o.Registries[host]; ok {
		return r, true
	}
	for name, r := range o.Registries {
		if (registry.Reference{Registry: name}).Host() == host {
			return r, true
		}
	}
	return Registry{}, false
}

// CheckRegistries refuses settings that cannot be used: a host or a mirror
// that is not a registry's name, a client certificate without its key.
func (o Options) CheckRegistries() error {
	for host, r := range o.Registries {
		for _, name := range append([]string{host}, r.Mirrors...) {
			if err := (registry.Reference{Registry: name}).ValidateRegistry(); err != nil {
				return fmt.Errorf("registry %q: %v", name, err)
			}
		}
		if (r.CertFile == "") != (r.KeyFile == "") {
			return fmt.Errorf("registry %s: a client certificate needs both a certificate file and a key file", host)
		}
	}
	return nil
}

// roundTripper is the transport under authentication: the Options' own,
// and for each registry with TLS settings of its own, one with those.
func (o Options) roundTripper(global *tls.Config) (http.RoundTripper, error) {
	def := transport.New(transport.Options{Insecure: o.Insecure, TLS: global, Retries: o.Retries, Base: o.Transport, Debug: o.Debug})
	byHost := map[string]http.RoundTripper{}
	for name, r := range o.Registries {
		if r.CAFile == "" && r.CertFile == "" {
			continue
		}
		settings := transport.TLS{Insecure: o.Insecure, CAFile: r.CAFile, CertFile: r.CertFile, KeyFile: r.KeyFile}
		if settings.CAFile == "" {
			settings.CAFile = o.CAFile
		}
		if settings.CertFile == "" {
			settings.CertFile, settings.KeyFile = o.CertFile, o.KeyFile
		}
		cfg, err := settings.Config()
		if err != nil {
			return nil, fmt.Errorf("registry %s: %w", name, err)
		}
		rt := transport.New(transport.Options{Insecure: o.Insecure, TLS: cfg, Retries: o.Retries, Base: o.Transport, Debug: o.Debug})
		byHost[name] = rt
		byHost[(registry.Reference{Registry: name}).Host()] = rt
	}
	if len(byHost) == 0 {
		return def, nil
	}
	return hostRouter{byHost: byHost, fallback: def}, nil
}

// hostRouter sends each request through the transport of its host. A
// redirect to another host (a registry's storage) takes the default one.
type hostRouter struct {
	byHost   map[string]http.RoundTripper
	fallback http.RoundTripper
}

func (h hostRouter) RoundTrip(req *http.Request) (*http.Response, error) {
	if rt, ok := h.byHost[req.URL.Host]; ok {
		return rt.RoundTrip(req)
	}
	return h.fallback.RoundTrip(req)
}
