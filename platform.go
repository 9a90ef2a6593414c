package blobber

import (
	"regexp"
	"runtime"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// DefaultPlatform is the platform a push writes into the image config when
// no other is asked for. The image spec requires os and architecture; a
// fixed value, rather than the pushing machine's, keeps the digest of a tree
// the same from every machine (an arm64 laptop and an amd64 CI runner).
// linux/amd64 is what runtimes resolve most widely, and what the first
// Blobber wrote. The files are the same on every platform: push to several
// (WithPlatforms) for runtimes that insist on their own.
const DefaultPlatform = "linux/amd64"

// maxPlatforms bounds the entries of an index a push writes.
const maxPlatforms = 64

// platformPart is one component of os/arch[/variant], as GOOS, GOARCH and
// the spec's variants (v7, v8) spell them.
var platformPart = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)

// ParsePlatform parses "os/arch[/variant]" (linux/arm64, linux/arm/v7).
// Anything else is an error matching ErrInvalidOption.
func ParsePlatform(s string) (ocispec.Platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 {
		return ocispec.Platform{}, invalidOption("platform %q: want os/arch or os/arch/variant (linux/amd64, linux/arm/v7)", s)
	}
	for _, p := range parts {
		if !platformPart.MatchString(p) {
			return ocispec.Platform{}, invalidOption("platform %q: %q is not an os, architecture or variant (lower case letters, digits, _ . -)", s, p)
		}
	}
	p := ocispec.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
}

// FormatPlatform is p as ParsePlatform reads it: os/arch[/variant].
func FormatPlatform(p ocispec.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// parsePlatforms parses a list of platforms, each given once; option is the
// option's name in errors.
func parsePlatforms(option string, list []string) ([]ocispec.Platform, error) {
	if len(list) == 0 {
		return nil, invalidOption("%s: no platform given", option)
	}
	if len(list) > maxPlatforms {
		return nil, invalidOption("%s: %d platforms, more than %d", option, len(list), maxPlatforms)
	}
	seen := map[string]bool{}
	out := make([]ocispec.Platform, 0, len(list))
	for _, s := range list {
		p, err := ParsePlatform(s)
		if err != nil {
			return nil, invalidOption("%s: %v", option, err)
		}
		if seen[FormatPlatform(p)] {
			return nil, invalidOption("%s: platform %s given twice", option, s)
		}
		seen[FormatPlatform(p)] = true
		out = append(out, p)
	}
	return out, nil
}

// WithPlatforms sets the platform the image config names (one platform),
// or makes the push write an image index (several): one manifest per
// platform, all sharing the one layer and differing only in their config,
// so that a runtime on any of them resolves the tag. The tag (and a
// signature) then names the index. Each is "os/arch[/variant]"; without
// this option the config names DefaultPlatform.
func WithPlatforms(platforms ...string) PushOption {
	return func(o *pushOptions) error {
		ps, err := parsePlatforms("WithPlatforms", platforms)
		if err != nil {
			return err
		}
		o.platforms = ps
		return nil
	}
}

// WithPlatform chooses which manifest of an image index reads take: the
// first of platforms ("os/arch[/variant]") the index lists; an index that
// lists none of them is an error matching ErrNotFound. Without it, reads
// take the running platform's entry, else the index's first (a blobber
// index holds the same files for every platform). A reference that names
// a manifest is read whatever its platform.
func WithPlatform(platforms ...string) Option {
	return func(o *options) error {
		ps, err := parsePlatforms("WithPlatform", platforms)
		if err != nil {
			return err
		}
		o.platforms = ps
		return nil
	}
}

// pushPlatforms are the platforms a push writes: those asked for, else the
// default.
func (o *pushOptions) pushPlatforms() []ocispec.Platform {
	if len(o.platforms) > 0 {
		return o.platforms
	}
	p, _ := ParsePlatform(DefaultPlatform)
	return []ocispec.Platform{p}
}

// runningPlatform is the platform this program runs on, as an index
// names it.
func runningPlatform() ocispec.Platform {
	return ocispec.Platform{OS: runtime.GOOS, Architecture: runtime.GOARCH}
}

// platformMatches tells whether an index entry's platform is want: os and
// architecture equal, and the variant too when want names one.
func platformMatches(have *ocispec.Platform, want ocispec.Platform) bool {
	return have != nil && have.OS == want.OS && have.Architecture == want.Architecture &&
		(want.Variant == "" || have.Variant == want.Variant)
}

func formatPlatforms(ps []ocispec.Platform) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = FormatPlatform(p)
	}
	return strings.Join(s, ", ")
}
