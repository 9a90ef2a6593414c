package blobber

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"mime"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry"

	"github.com/blobber-dev/blobber/internal/compression"
	"github.com/blobber-dev/blobber/internal/push"
	"github.com/blobber-dev/blobber/internal/target"
)

// pushMetadata is what a push writes into the manifest besides the layer:
// nothing by default, so that the same tree always gives the same digest.
type pushMetadata struct {
	annotations       map[string]string // the manifest's
	configAnnotations map[string]string // the config descriptor's
	artifactType      string
}

// manifestFormat changes whenever the same tree and options would give a
// different manifest, so that the cache's records of earlier pushes (which
// tag the earlier manifest again) are not reused.
// blobber-manifest-2: the gzip layer carries ORAS's title and unpack
// annotations (orasLayerAnnotations).
// blobber-manifest-3: the config names a platform (os, architecture).
const manifestFormat = "blobber-manifest-3"

// WithAnnotation sets one annotation of the manifest. The key cannot be
// empty nor hold spaces or control characters, key and value must be UTF-8,
// and org.opencontainers.image.created must be an RFC 3339 time. Setting
// a key twice to different values fails the push (ErrInvalidOption).
func WithAnnotation(key, value string) PushOption {
	return func(o *pushOptions) error {
		return o.meta.annotate(&o.meta.annotations, "WithAnnotation", key, value)
	}
}

// WithAnnotations sets annotations of the manifest, as WithAnnotation does
// for each.
func WithAnnotations(annotations map[string]string) PushOption {
	return func(o *pushOptions) error {
		for _, k := range slices.Sorted(maps.Keys(annotations)) {
			if err := o.meta.annotate(&o.meta.annotations, "WithAnnotations", k, annotations[k]); err != nil {
				return err
			}
		}
		return nil
	}
}

// WithConfigAnnotations sets annotations of the config's descriptor in
// the manifest (ORAS's "$config"), under WithAnnotation's rules.
func WithConfigAnnotations(annotations map[string]string) PushOption {
	return func(o *pushOptions) error {
		for _, k := range slices.Sorted(maps.Keys(annotations)) {
			if err := o.meta.annotate(&o.meta.configAnnotations, "WithConfigAnnotations", k, annotations[k]); err != nil {
				return err
			}
		}
		return nil
	}
}

// WithAnnotationFile reads annotations from a JSON file in ORAS's format:
// an object whose "$manifest" member holds the manifest's annotations and
// whose "$config" member holds the config descriptor's. ORAS's other
// members name the files it pushed, one layer each; Blobber pushes one
// layer whose annotations readers depend on, so any other member fails the
// push (ErrInvalidOption), as does a file that cannot be read.
func WithAnnotationFile(path string) PushOption {
	return func(o *pushOptions) error {
		data, err := os.ReadFile(path)
		if err != nil {
			return invalidOption("WithAnnotationFile: %v", err)
		}
		var sections map[string]map[string]string
		if err := json.Unmarshal(data, &sections); err != nil {
			return invalidOption("WithAnnotationFile: %s: not an object of annotation objects: %v", path, err)
		}
		for _, name := range slices.Sorted(maps.Keys(sections)) {
			var into *map[string]string
			switch name {
			case "$manifest":
				into = &o.meta.annotations
			case "$config":
				into = &o.meta.configAnnotations
			default:
				return invalidOption("WithAnnotationFile: %s: %q: only \"$manifest\" and \"$config\" can be annotated (Blobber pushes one layer, whose annotations are its own)", path, name)
			}
			for _, k := range slices.Sorted(maps.Keys(sections[name])) {
				if err := o.meta.annotate(into, "WithAnnotationFile("+path+")", k, sections[name][k]); err != nil {
					return err
				}
			}
		}
		return nil
	}
}

// WithSource records where the tree's sources are (an absolute URL) as
// org.opencontainers.image.source.
func WithSource(source string) PushOption {
	return func(o *pushOptions) error {
		u, err := url.Parse(source)
		if err != nil || !u.IsAbs() || u.Host == "" && u.Opaque == "" {
			return invalidOption("WithSource(%q): not an absolute URL", source)
		}
		return o.meta.annotate(&o.meta.annotations, "WithSource", ocispec.AnnotationSource, source)
	}
}

// WithRevision records the sources' revision (a commit, say) as
// org.opencontainers.image.revision. It cannot be empty.
func WithRevision(revision string) PushOption {
	return func(o *pushOptions) error {
		if revision == "" {
			return invalidOption("WithRevision: the revision cannot be empty")
		}
		return o.meta.annotate(&o.meta.annotations, "WithRevision", ocispec.AnnotationRevision, revision)
	}
}

// WithCreated records t (in UTC, to the second) as
// org.opencontainers.image.created. Without it a push records no time, so
// the same tree always gives the same manifest digest; with it, every
// push at another time gives another one.
func WithCreated(t time.Time) PushOption {
	return func(o *pushOptions) error {
		if t.IsZero() {
			return invalidOption("WithCreated: the time cannot be zero")
		}
		return o.meta.annotate(&o.meta.annotations, "WithCreated", ocispec.AnnotationCreated, t.UTC().Format(time.RFC3339))
	}
}

// WithArtifactType sets the manifest's artifactType (a media type such as
// "application/vnd.example.site.v1"). The config stays an image config, so
// that container tooling and eStargz readers still read the artifact.
func WithArtifactType(mediaType string) PushOption {
	return func(o *pushOptions) error {
		_, params, err := mime.ParseMediaType(mediaType)
		typ, sub, _ := strings.Cut(mediaType, "/")
		if err != nil || len(params) > 0 || strings.ContainsAny(mediaType, "; ") || typ == "" || sub == "" || strings.Contains(sub, "/") {
			return invalidOption("WithArtifactType(%q): not a media type (type/subtype, no parameters)", mediaType)
		}
		o.meta.artifactType = mediaType
		return nil
	}
}

// annotate sets key to value in *into, checking both first.
func (m *pushMetadata) annotate(into *map[string]string, option, key, value string) error {
	if key == "" {
		return invalidOption("%s: an annotation key cannot be empty", option)
	}
	if !utf8.ValidString(key) || strings.IndexFunc(key, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return invalidOption("%s: annotation key %q holds spaces or control characters", option, key)
	}
	if !utf8.ValidString(value) {
		return invalidOption("%s: annotation %s: the value is not UTF-8", option, key)
	}
	if key == ocispec.AnnotationCreated {
		if _, err := time.Parse(time.RFC3339, value); err != nil {
			return invalidOption("%s: annotation %s=%q: not an RFC 3339 time", option, key, value)
		}
	}
	if old, ok := (*into)[key]; ok && old != value {
		return invalidOption("%s: annotation %s set twice (%q, then %q)", option, key, old, value)
	}
	if *into == nil {
		*into = map[string]string{}
	}
	(*into)[key] = value
	return nil
}

// fingerprint is push.Fingerprint of the tree and build options, mixed with
// the manifest format and metadata: a push that would write another
// manifest does not reuse the record of an earlier one.
func (o *pushOptions) fingerprint(src fs.FS) (fp, shapeKey string) {
	return o.withManifest(push.Fingerprint(src, o.build))
}

// withManifest mixes a tree's fingerprint (push.Fingerprint's, or a
// push.Fingerprinter's) with the manifest format and metadata.
func (o *pushOptions) withManifest(fp, shapeKey string) (string, string) {
	if fp == "" {
		return "", ""
	}
	meta, _ := json.Marshal([]any{manifestFormat, o.meta.annotations, o.meta.configAnnotations, o.meta.artifactType, o.platforms})
	h := sha256.Sum256([]byte(fp + "\n" + string(meta)))
	return hex.EncodeToString(h[:]), shapeKey
}

// splitTags takes the extra tags off a reference that names several, as
// ORAS spells it ("host/repo:v1,latest"): it returns the reference with
// its first tag, and the others. A tag that is not one fails.
func splitTags(ref string) (string, []string, error) {
	i := strings.LastIndex(ref, ":")
	if i < strings.LastIndex(ref, "/") || strings.Contains(ref, "@") || !strings.Contains(ref[i+1:], ",") {
		return ref, nil, nil
	}
	tags := strings.Split(ref[i+1:], ",")
	for _, tag := range tags {
		r := registry.Reference{Registry: "x", Repository: "x", Reference: tag}
		if err := r.ValidateReferenceAsTag(); err != nil {
			return "", nil, fmt.Errorf("push to %s: %q is not a tag: %w", ref, tag, ErrInvalidReference)
		}
	}
	return ref[:i+1] + tags[0], tags[1:], nil
}

// tagAlso tags the pushed manifest with the extra tags of the reference.
func tagAlso(ctx context.Context, t *target.Target, desc ocispec.Descriptor, tags []string) error {
	for _, tag := range tags {
		if err := t.Store.Tag(ctx, desc, tag); err != nil {
			return wrapf(err, "tagging %s as %s:%s", desc.Digest, t.Name, tag)
		}
	}
	return nil
}

// orasLayerAnnotations let `oras pull REF -o DIR` unpack a gzip layer into
// DIR itself: ORAS's file store unpacks a layer titled "." into its working
// directory, with the tar names as they are (a title "site" would need
// every name under "site/", which would change the layer for every other
// reader). The tar stream ends before the TOC, so ORAS's tar reader sees
// only the tree. No io.deis.oras.content.digest: ORAS checks the layer's
// digest anyway, and the optional one would cost a second hash of the tar
// stream. ORAS unpacks gzip only, so a zstd layer gets none of them (and
// ORAS skips it as a layer without a file name).
// orasUnpackAnnotation is oras-go's file.AnnotationUnpack.
const orasUnpackAnnotation = "io.deis.oras.content.unpack"

func orasLayerAnnotations(comp compression.Compression) map[string]string {
	if comp != compression.Gzip {
		return nil
	}
	return map[string]string{ocispec.AnnotationTitle: ".", orasUnpackAnnotation: "true"}
}
