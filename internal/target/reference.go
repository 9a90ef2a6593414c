// Package target turns a reference into the place blobber reads or writes:
// a repository on a registry (docker-style references, Docker Hub short
// names) or a local OCI image layout directory.
package target

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/distribution/reference"
	digest "github.com/opencontainers/go-digest"
	"oras.land/oras-go/v2/registry"

	"github.com/blobber-dev/blobber/internal/errdef"
)

// ErrInvalidReference: the reference cannot be parsed.
var ErrInvalidReference = errdef.ErrInvalidReference

// ParseRegistry parses a docker-style reference ("host[:port]/repo[:tag|@digest]",
// or a Docker Hub short name such as "alpine"). The returned Reference's
// Reference field is the digest, the tag, or "" when the reference names
// only a repository.
func ParseRegistry(ref string) (registry.Reference, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return registry.Reference{}, fmt.Errorf("%w %q: %v", ErrInvalidReference, ref, err)
	}
	r := registry.Reference{Registry: reference.Domain(named), Repository: reference.Path(named)}
	if d, ok := named.(reference.Digested); ok {
		r.Reference = d.Digest().String()
	} else if t, ok := named.(reference.Tagged); ok {
		r.Reference = t.Tag()
	}
	if err := r.Validate(); err != nil {
		return registry.Reference{}, fmt.Errorf("%w %q: %v", ErrInvalidReference, ref, err)
	}
	return r, nil
}

// ParseLayout splits an OCI layout reference "path[:tag|@digest]", the way
// ORAS spells it.
func ParseLayout(ref string) (dir, tagOrDigest string, err error) {
	if ref == "" {
		return "", "", fmt.Errorf("%w: empty OCI layout path", ErrInvalidReference)
	}
	if i := strings.LastIndex(ref, "@"); i >= 0 {
		d, err := digest.Parse(ref[i+1:])
		if err != nil {
			return "", "", fmt.Errorf("%w %q: %v", ErrInvalidReference, ref, err)
		}
		dir, tagOrDigest = ref[:i], d.String()
	} else if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		dir, tagOrDigest = ref[:i], ref[i+1:]
		if !validTag(tagOrDigest) {
			return "", "", fmt.Errorf("%w %q: bad tag %q", ErrInvalidReference, ref, tagOrDigest)
		}
	} else {
		dir = ref
	}
	if dir == "" {
		return "", "", fmt.Errorf("%w %q: no directory", ErrInvalidReference, ref)
	}
	return dir, tagOrDigest, nil
}

func validTag(tag string) bool {
	r := registry.Reference{Registry: "x", Repository: "x", Reference: tag}
	return r.ValidateReferenceAsTag() == nil
}

// IsLoopback tells whether host (with or without a port) is this machine,
// where a registry is taken to speak plain HTTP unless told otherwise, as
// docker does. It decides on the parsed address, or on the name localhost
// exactly: a name that only starts like one (127.example.com,
// 127.0.0.1.nip.io, localhost.example.com) resolves wherever its DNS says,
// and must not be sent credentials over plain HTTP.
func IsLoopback(host string) bool {
	h := host
	if strings.HasPrefix(h, "[") {
		h = strings.TrimPrefix(strings.SplitN(h, "]", 2)[0], "[")
	} else if strings.Count(h, ":") == 1 {
		h = h[:strings.LastIndex(h, ":")]
	}
	if strings.EqualFold(h, "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(h)
	return err == nil && addr.IsLoopback()
}
