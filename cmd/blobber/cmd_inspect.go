package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/blobber-dev/blobber"
)

func newInspectCmd(g *globalOptions) *cobra.Command {
	var raw bool
	cmd := &cobra.Command{
		Use:   "inspect REF",
		Short: "Describe an artifact: manifest, config, layer, entry counts, signatures (reads only its manifest and table of contents)",
		Long: `Describe the artifact REF names from its manifest and its table of contents:
the manifest's digest, size, media type, artifact type and annotations, the
config, the layer (compressed and uncompressed size, compression, TOC digest),
how many files, directories and symlinks it holds and their total size, when
it was created if annotated, and whether signatures or other referrers are
attached. No file content is downloaded. --raw prints the manifest as stored.`,
		Args: exactArgs(1, "REF"),
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := outputOf(cmd)
			if err != nil {
				return err
			}
			if raw && (out.structured() || out.quiet) {
				return usagef("--raw prints the manifest as stored; it does not go with --format or --quiet")
			}
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			in, err := c.Inspect(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if raw {
				_, err := out.w.Write(in.RawManifest)
				return err
			}
			return out.object(inspectionJSON(in), []string{in.Manifest.Digest.String()}, func(w io.Writer) error {
				return writeInspection(w, in)
			})
		},
	}
	cmd.Flags().BoolVar(&raw, "raw", false, "print the manifest's bytes as stored")
	return cmd
}

// inspectJSON is inspect's --format json (docs/json.md).
type inspectJSON struct {
	Reference      string            `json:"reference"`
	Digest         string            `json:"digest"`
	MediaType      string            `json:"mediaType"`
	Size           int64             `json:"size"`
	ArtifactType   string            `json:"artifactType,omitempty"`
	Annotations    map[string]string `json:"annotations,omitempty"`
	Created        string            `json:"created,omitempty"`
	Config         configJSON        `json:"config"`
	Layers         []layerJSON       `json:"layers"`
	Files          int               `json:"files"`
	Directories    int               `json:"directories"`
	Symlinks       int               `json:"symlinks"`
	Hardlinks      int               `json:"hardlinks"`
	Others         int               `json:"others"`
	TotalSize      int64             `json:"totalSize"`
	Signatures     int               `json:"signatures"`
	Referrers      []referrerJSON    `json:"referrers"`
	ReferrersError string            `json:"referrersError,omitempty"`
	NotReadable    string            `json:"notReadable,omitempty"`
	Platform       string            `json:"platform,omitempty"`
	Index          *indexJSON        `json:"index,omitempty"`
}

// indexJSON is the image index a reference named (platform.go).
type indexJSON struct {
	Digest    string   `json:"digest"`
	MediaType string   `json:"mediaType"`
	Size      int64    `json:"size"`
	Platforms []string `json:"platforms"`
}

type configJSON struct {
	MediaType string          `json:"mediaType"`
	Digest    string          `json:"digest"`
	Size      int64           `json:"size"`
	Content   json.RawMessage `json:"content,omitempty"`
}

// layerJSON describes a layer, in inspect's and push's output.
type layerJSON struct {
	Digest               string `json:"digest"`
	MediaType            string `json:"mediaType"`
	Size                 int64  `json:"size"`
	Compression          string `json:"compression,omitempty"`
	TOCDigest            string `json:"tocDigest,omitempty"`
	UncompressedSize     int64  `json:"uncompressedSize"`
	UncompressedSizeFrom string `json:"uncompressedSizeFrom,omitempty"`
	DiffID               string `json:"diffID,omitempty"`
}

type referrerJSON struct {
	Digest       string `json:"digest"`
	MediaType    string `json:"mediaType"`
	ArtifactType string `json:"artifactType,omitempty"`
	Size         int64  `json:"size"`
}

func inspectionJSON(in *blobber.Inspection) inspectJSON {
	j := inspectJSON{
		Reference:    in.Name,
		Digest:       in.Manifest.Digest.String(),
		MediaType:    in.Manifest.MediaType,
		Size:         in.Manifest.Size,
		ArtifactType: in.ArtifactType,
		Annotations:  in.Annotations,
		Config:       configJSON{MediaType: in.Config.MediaType, Digest: in.Config.Digest.String(), Size: in.Config.Size},
		Layers:       layersJSON(in),
		Files:        in.Files,
		Directories:  in.Directories,
		Symlinks:     in.Symlinks,
		Hardlinks:    in.Hardlinks,
		Others:       in.Others,
		TotalSize:    in.TotalSize,
		Signatures:   in.SignatureCount(),
		Referrers:    []referrerJSON{},
	}
	if !in.Created.IsZero() {
		j.Created = in.Created.UTC().Format(time.RFC3339)
	}
	if json.Valid(in.ConfigContent) {
		j.Config.Content = in.ConfigContent
	}
	for _, r := range in.Referrers {
		j.Referrers = append(j.Referrers, referrerJSON{Digest: r.Digest.String(), MediaType: r.MediaType, ArtifactType: r.ArtifactType, Size: r.Size})
	}
	if in.ReferrersErr != nil {
		j.ReferrersError = in.ReferrersErr.Error()
	}
	if in.NotReadable != nil {
		j.NotReadable = in.NotReadable.Error()
	}
	j.Platform = in.Platform
	if in.Index.Digest != "" {
		j.Index = &indexJSON{Digest: in.Index.Digest.String(), MediaType: in.Index.MediaType, Size: in.Index.Size, Platforms: in.Platforms}
	}
	return j
}

func layersJSON(in *blobber.Inspection) []layerJSON {
	var out []layerJSON
	for _, l := range in.Layers {
		out = append(out, layerJSON{
			Digest:               l.Descriptor.Digest.String(),
			MediaType:            l.Descriptor.MediaType,
			Size:                 l.Descriptor.Size,
			Compression:          string(l.Compression),
			TOCDigest:            l.TOCDigest.String(),
			UncompressedSize:     l.UncompressedSize,
			UncompressedSizeFrom: l.UncompressedSizeFrom,
			DiffID:               l.DiffID.String(),
		})
	}
	return out
}

// writeInspection is inspect's text: one aligned block.
func writeInspection(w io.Writer, in *blobber.Inspection) error {
	line := func(label, format string, args ...any) {
		fmt.Fprintf(w, "%-15s%s\n", label+":", fmt.Sprintf(format, args...))
	}
	line("reference", "%s", printable(in.Name))
	line("media type", "%s", printable(in.Manifest.MediaType))
	line("size", "%d bytes", in.Manifest.Size)
	if in.ArtifactType != "" {
		line("artifact type", "%s", printable(in.ArtifactType))
	}
	if !in.Created.IsZero() {
		line("created", "%s", in.Created.UTC().Format(time.RFC3339))
	}
	for i, k := range slices.Sorted(maps.Keys(in.Annotations)) {
		label := ""
		if i == 0 {
			label = "annotations:"
		}
		fmt.Fprintf(w, "%-15s%s=%s\n", label, printable(k), printable(in.Annotations[k]))
	}
	writePlatforms(line, in)
	line("config", "%s (%s, %d bytes)", in.Config.Digest, printable(in.Config.MediaType), in.Config.Size)
	for _, l := range in.Layers {
		line("layer", "%s", l.Descriptor.Digest)
		if l.Compression != "" {
			line("  compression", "%s", l.Compression)
		} else {
			line("  media type", "%s", printable(l.Descriptor.MediaType))
		}
		switch l.UncompressedSizeFrom {
		case "annotation":
			line("  size", "%s compressed, %s uncompressed (tar stream)", formatSize(l.Descriptor.Size), formatSize(l.UncompressedSize))
		case "files":
			line("  size", "%s compressed, %s uncompressed (sum of file sizes)", formatSize(l.Descriptor.Size), formatSize(l.UncompressedSize))
		default:
			line("  size", "%s compressed", formatSize(l.Descriptor.Size))
		}
		if l.TOCDigest != "" {
			line("  toc", "%s", printable(l.TOCDigest.String()))
		}
		if l.DiffID != "" {
			line("  diffID", "%s", printable(l.DiffID.String()))
		}
	}
	if in.NotReadable != nil {
		line("readable", "no: %s", oneLine(in.NotReadable.Error()))
		return writeReferrers(line, in)
	}
	entries := fmt.Sprintf("%s, %s, %s", countOf(in.Files, "file", "files"), countOf(in.Directories, "directory", "directories"), countOf(in.Symlinks, "symlink", "symlinks"))
	if in.Hardlinks > 0 {
		entries += ", " + countOf(in.Hardlinks, "hardlink", "hardlinks")
	}
	if in.Others > 0 {
		entries += ", " + countOf(in.Others, "other entry", "other entries")
	}
	line("entries", "%s; %s in files", entries, formatSize(in.TotalSize))
	return writeReferrers(line, in)
}

func writeReferrers(line func(label, format string, args ...any), in *blobber.Inspection) error {
	switch {
	case in.ReferrersErr != nil:
		line("referrers", "unknown (%s)", oneLine(in.ReferrersErr.Error()))
	case len(in.Referrers) == 0:
		line("signatures", "none")
		line("referrers", "none")
	default:
		line("signatures", "%d", in.SignatureCount())
		line("referrers", "%d", len(in.Referrers))
	}
	return nil
}

// pinned is ref with its tag replaced by dgst, so that what is described
// after a push or pull is the manifest it wrote, whatever the tag names by
// then.
func pinned(ref, dgst string) string {
	if i := strings.LastIndex(ref, "@"); i >= 0 {
		return ref[:i] + "@" + dgst
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndexAny(ref, `/\`) {
		ref = ref[:i]
	}
	return ref + "@" + dgst
}
