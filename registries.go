package blobber

import (
	"errors"
	"maps"
	"slices"

	"github.com/blobber-dev/blobber/internal/target"
)

// RegistrySettings say how to reach one registry, in place of the client's
// own settings for it.
type RegistrySettings struct {
	// PlainHTTP, when set, talks HTTP (true) or HTTPS (false) to this
	// registry, whatever WithPlainHTTP says.
	PlainHTTP *bool
	// CAFile, CertFile and KeyFile take the place of WithCAFile and
	// WithClientCert for this registry's host (not for the storage a
	// registry redirects blob reads to).
	CAFile, CertFile, KeyFile string
	// Mirrors are registries (host[:port]) that serve the same repositories,
	// pull-through caches as docker's registry-mirrors and containerd's
	// hosts.toml describe them. Reads (tags, manifests, blobs) ask them
	// first, in order, and then this registry: a mirror that fails, cannot
	// be reached, lacks the content or serves bytes that do not match
	// their digest is passed over. What a mirror serves is verified as
	// what the registry serves is; a tag cannot be verified, so a mirror is
	// trusted to resolve tags as much as the registry is (signatures, when
	// a verifier is set, are read from the registry itself). Pushes,
	// signatures and tag listings go to the registry only. A mirror's own
	// settings are those WithRegistry gives its host.
	Mirrors []string
}

// WithRegistry sets how to reach the registry host (host[:port], as
// references name it: "docker.io" for Docker Hub). Given again for the same
// host, the later settings replace the earlier.
func WithRegistry(host string, s RegistrySettings) Option {
	return func(o *options) error {
		if (s.CertFile == "") != (s.KeyFile == "") {
			return invalidOption("WithRegistry(%q): a client certificate needs both a certificate file and a key file", host)
		}
		r := target.Registry{PlainHTTP: s.PlainHTTP, CAFile: s.CAFile, CertFile: s.CertFile, KeyFile: s.KeyFile, Mirrors: slices.Clone(s.Mirrors)}
		regs := maps.Clone(o.target.Registries)
		if regs == nil {
			regs = map[string]target.Registry{}
		}
		regs[host] = r
		check := target.Options{Registries: map[string]target.Registry{host: r}}
		if err := check.CheckRegistries(); err != nil {
			return invalidOption("WithRegistry: %v", err)
		}
		if slices.Contains(s.Mirrors, host) {
			return invalidOption("WithRegistry(%q): a registry cannot be its own mirror", host)
		}
		o.target.Registries = regs
		return nil
	}
}

// registryTLSGiven names a registry given TLS files of its own, for the
// contradiction with WithTransport.
func (o *options) registryTLSGiven() string {
	for host, r := range o.target.Registries {
		if r.CAFile != "" || r.CertFile != "" {
			return host
		}
	}
	return ""
}

// mirroredLayer is the network side of a layer read from mirrors: bytes
// that do not verify make it pass over the mirror that served them, and
// read them again from the next source (retryUncached, dropCached).
type mirroredLayer struct {
	*countingBlob
	inv invalidator
}

func (l mirroredLayer) Invalidate(off, n int64) error { return l.inv.Invalidate(off, n) }

// mirrorPassedOver tells whether a pull that failed with err is worth once
// more: its bytes did not verify, and a mirror that may have served them
// has been passed over since, so the next try reads from another source.
func (img *Image) mirrorPassedOver(err error) bool {
	if !errors.Is(err, ErrDigestMismatch) {
		return false
	}
	for _, layer := range img.layers {
		if c, ok := layer.(cachedLayer); ok {
			layer, _ = c.network.(layerReader)
		}
		m, ok := layer.(mirroredLayer)
		if !ok {
			continue
		}
		if p, ok := m.remote.(interface{ PassedOver() bool }); ok && p.PassedOver() {
			return true
		}
	}
	return false
}
