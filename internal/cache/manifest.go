package cache

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	digest "github.com/opencontainers/go-digest"
)

// maxManifestSize bounds what is cached as a manifest; registries refuse
// manifests far smaller than this.
const maxManifestSize = 16 << 20

// A manifest file is its media type, a newline, then the manifest's
// bytes: one file, so the pair is replaced atomically.
func manifestPath(hex string) string { return manifestsDir + "/" + hex }

// PutManifest stores the manifest data under dgst, which it must match.
func (c *Cache) PutManifest(dgst digest.Digest, mediaType string, data []byte) error {
	hex, err := sha256Hex(dgst)
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	if err := checkMediaType(mediaType); err != nil {
		return err
	}
	if len(data) > maxManifestSize {
		return fmt.Errorf("cache: manifest %s is larger than %d bytes", dgst, maxManifestSize)
	}
	if got := digest.SHA256.FromBytes(data); got != dgst {
		return fmt.Errorf("cache: manifest %s: %w: the bytes hash to %s", dgst, ErrDigestMismatch, got)
	}
	file := make([]byte, 0, len(mediaType)+1+len(data))
	file = append(append(append(file, mediaType...), '\n'), data...)
	if err := c.writeAtomic(manifestPath(hex), file); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	c.wrote(int64(len(file)))
	return nil
}

// Manifest returns the cached manifest dgst. Its bytes are checked
// against dgst on every read; a file that does not match is removed and
// reported as a miss.
func (c *Cache) Manifest(dgst digest.Digest) (mediaType string, data []byte, ok bool) {
	hex, err := sha256Hex(dgst)
	if err != nil {
		return "", nil, false
	}
	name := manifestPath(hex)
	file, err := c.readSmall(name, maxManifestSize+1024)
	if err != nil {
		if errors.Is(err, errCorrupt) {
			c.removeFiles(name)
		}
		return "", nil, false
	}
	mt, body, found := bytes.Cut(file, []byte{'\n'})
	if !found || checkMediaType(string(mt)) != nil || digest.SHA256.FromBytes(body) != dgst {
		c.removeFiles(name)
		return "", nil, false
	}
	c.touch(name)
	return string(mt), body, true
}

// checkMediaType keeps media types to one printable line, which the
// manifest file format and the tag index rely on.
func checkMediaType(mt string) error {
	if len(mt) > 255 || strings.ContainsFunc(mt, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("cache: invalid media type %q", mt)
	}
	return nil
}
