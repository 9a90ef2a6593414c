package main

import (
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/blobber-dev/blobber"
)

// pushMetadataFlags are push's flags for what the manifest records besides
// the layer, spelled as ORAS spells them.
type pushMetadataFlags struct {
	annotations    []string
	annotationFile string
	artifactType   string
	source         string
	revision       string
	created        string
}

func (m *pushMetadataFlags) register(f *pflag.FlagSet) {
	f.StringArrayVarP(&m.annotations, "annotation", "a", nil, "manifest annotation KEY=VALUE (repeatable)")
	f.StringVar(&m.annotationFile, "annotation-file", "", `JSON file of annotations in ORAS's format: {"$manifest": {...}, "$config": {...}}`)
	f.StringVar(&m.artifactType, "artifact-type", "", "the manifest's artifactType (a media type); the config stays an image config")
	f.StringVar(&m.source, "source", "", "URL of the sources, recorded as org.opencontainers.image.source")
	f.StringVar(&m.revision, "revision", "", "revision of the sources (a commit), recorded as org.opencontainers.image.revision")
	f.StringVar(&m.created, "created", "", "record org.opencontainers.image.created: now, or an RFC 3339 time (default: no time, so the same tree gives the same digest)")
}

// options turns the flags into push options; the library checks the
// values, before anything is opened.
func (m *pushMetadataFlags) options() ([]blobber.PushOption, error) {
	var opts []blobber.PushOption
	for _, a := range m.annotations {
		key, value, ok := strings.Cut(a, "=")
		if !ok {
			return nil, usagef("push: --annotation %q: want KEY=VALUE", a)
		}
		opts = append(opts, blobber.WithAnnotation(key, value))
	}
	if m.annotationFile != "" {
		opts = append(opts, blobber.WithAnnotationFile(m.annotationFile))
	}
	if m.artifactType != "" {
		opts = append(opts, blobber.WithArtifactType(m.artifactType))
	}
	if m.source != "" {
		opts = append(opts, blobber.WithSource(m.source))
	}
	if m.revision != "" {
		opts = append(opts, blobber.WithRevision(m.revision))
	}
	switch m.created {
	case "":
	case "now":
		opts = append(opts, blobber.WithCreated(time.Now()))
	default:
		t, err := time.Parse(time.RFC3339, m.created)
		if err != nil {
			return nil, usagef("push: --created %q: want now or an RFC 3339 time (2006-01-02T15:04:05Z)", m.created)
		}
		opts = append(opts, blobber.WithCreated(t))
	}
	return opts, nil
}
