package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/spf13/cobra"

	"github.com/blobber-dev/blobber"
)

type pushOptions struct {
	keepMtime   bool
	compression string
	level       string
	chunkSize   int64
	progress    progressFlags
	uploadChunk string
	sign        bool
	signing     signFlags
	exclude     []string
	dereference bool
	metadata    pushMetadataFlags
	layers      string
}

func newPushCmd(g *globalOptions) *cobra.Command {
	o := &pushOptions{}
	cmd := &cobra.Command{
		Use:   "push DIR REF",
		Short: "Push a directory as an eStargz artifact and print its manifest digest",
		Example: `  blobber push ./site localhost:5000/team/site:v1
  blobber push ./site localhost:5000/team/site:v1,latest --revision "$(git rev-parse HEAD)"
  blobber push --oci-layout ./site ./layout:v1`,
		Args: exactArgs(2, "DIR REF"),
		RunE: func(cmd *cobra.Command, args []string) error {
			setSoftMemoryLimit(pushMemoryLimit)
			return runPush(cmd, g, o, args[0], args[1])
		},
	}
	cmd.ValidArgsFunction = completeArgs(g, argLocalDir, argRef)
	f := cmd.Flags()
	f.BoolVar(&o.keepMtime, "keep-mtime", false, "record modification times (default: fixed times, so the same tree gives the same digest)")
	f.StringVar(&o.compression, "compression", "gzip", "layer compression: gzip or zstd")
	f.Var(levelFlag{&o.level}, "compression-level", "how hard to compress: 1 (fastest) to 9 (smallest) for gzip, fastest, default, better or best for zstd (default: the compression's own, gzip 5); config key compression-level")
	f.StringVar(&o.layers, "layers", blobber.LayersAuto, "how many layers: auto splits a large tree so that a push after a small change uploads only the layers that changed; 1 keeps one layer")
	f.StringVar(&o.uploadChunk, "chunk-size", "", "upload the layer in chunks of this size (e.g. 64MiB), resuming a failed chunk (default: one request for a layer built before its upload, 64MiB chunks for one uploaded while it is built)")
	o.progress.register(f)
	f.Var(sizeFlag{&o.chunkSize}, "estargz-chunk-size", "largest piece of a file compressed on its own, e.g. 1MiB (default 4MiB)")
	f.StringArrayVar(&o.exclude, "exclude", nil, "leave out the entries whose path from DIR matches this glob (repeatable; ** matches across directories, e.g. '**/*.log'; see docs/patterns.md); DIR/"+blobber.IgnoreFile+" (gitignore syntax) is read too")
	f.BoolVar(&o.dereference, "dereference", false, "store what symlinks point to instead of the links, as tar -h does")
	f.BoolVar(&o.sign, "sign", false, "sign the pushed manifest (cosign's format): with --sign-key, or keyless with an OIDC token")
	o.signing.register(f)
	o.metadata.register(f)
	return cmd
}

func runPush(cmd *cobra.Command, g *globalOptions, o *pushOptions, dir, ref string) error {
	if err := g.refuseOffline("push", true); err != nil {
		return err
	}
	out, err := outputOf(cmd)
	if err != nil {
		return err
	}
	info, err := os.Stat(dir)
	if err != nil {
		if swapped, err2 := os.Stat(ref); err2 == nil && swapped.IsDir() {
			return usageWithHint(fmt.Errorf("push: %w", err), "blobber push "+ref+" "+dir)
		}
		return usagef("push: %v", err)
	}
	if !info.IsDir() {
		return usagef("push: %s is not a directory", dir)
	}
	comp, err := blobber.ParseCompression(o.compression)
	if err != nil {
		return usagef("push: %v", err)
	}
	if err := blobber.CheckCompressionLevel(comp, o.level); err != nil {
		return usagef("push: %s: %v", flagOrigin(cmd.Flags().Lookup("compression-level")), err)
	}
	if o.layers != blobber.LayersOne && o.layers != blobber.LayersAuto {
		return usagef("push: --layers %q: give %s or %s", o.layers, blobber.LayersOne, blobber.LayersAuto)
	}
	for _, p := range o.exclude {
		if blobber.CheckPattern(p) != nil {
			return usagef("push: --exclude %q: not a valid pattern", p)
		}
	}
	uploadChunk, err := parseSize(o.uploadChunk)
	if err != nil {
		return usagef("push: --chunk-size: %v", err)
	}
	metadata, err := o.metadata.options()
	if err != nil {
		return err
	}
	progress, stopProgress, err := startProgress(cmd, o.progress)
	if err != nil {
		return err
	}
	defer stopProgress(false)
	g.progress = progress
	var extra []blobber.Option
	if o.sign || o.signing.key != "" {
		signer, err := o.signing.signer(cmd)
		if err != nil {
			return err
		}
		extra = append(extra, blobber.WithSigner(signer))
	}
	c, err := g.client(cmd, extra...)
	if err != nil {
		return err
	}
	opts := append([]blobber.PushOption{blobber.WithCompression(comp), blobber.WithCompressionLevel(o.level), blobber.WithLayers(o.layers)}, metadata...)
	opts = append(opts, g.pushPlatformOptions()...)
	if o.keepMtime {
		opts = append(opts, blobber.WithKeepModTimes())
	}
	if o.chunkSize > 0 {
		if o.chunkSize > math.MaxInt32 {
			return usagef("push: --estargz-chunk-size: %d bytes is too large", o.chunkSize)
		}
		opts = append(opts, blobber.WithChunkSize(int(o.chunkSize)))
	}
	if uploadChunk > 0 {
		opts = append(opts, blobber.WithUploadChunkSize(uploadChunk))
	}
	if len(o.exclude) > 0 {
		opts = append(opts, blobber.WithExclude(o.exclude...))
	}
	tree := os.DirFS(dir)
	if o.dereference {
		opts = append(opts, blobber.WithDereference())
	} else {
		// No file outside DIR is opened, even one that a link swapped in
		// during the push points to, and no swapped-in FIFO blocks it.
		t, err := blobber.OpenTree(dir)
		if err != nil {
			return usagef("push: %v", err)
		}
		defer t.Close()
		tree = t
	}
	desc, err := c.Push(cmd.Context(), ref, tree, opts...)
	stopProgress(err == nil)
	var refused *blobber.UnsupportedEntriesError
	if errors.As(err, &refused) {
		deref := ""
		if refused.Links > 0 {
			deref = ", or store what the links point to with --dereference"
		}
		return fmt.Errorf("push: %s holds %s that pull would refuse: %s — leave them out with --exclude GLOB or a %s file%s%.0w",
			dir, countOf(refused.Total, "entry", "entries"), refused.List(), blobber.IgnoreFile, deref, err)
	}
	if err != nil {
		return err
	}
	if !out.structured() {
		return out.object(nil, []string{desc.Digest.String()}, func(w io.Writer) error {
			_, err := fmt.Fprintln(w, desc.Digest)
			return err
		})
	}
	// What was pushed, read back from its manifest and TOC.
	in, err := c.Inspect(cmd.Context(), pinned(ref, desc.Digest.String()))
	if err != nil {
		return fmt.Errorf("describing what was pushed: %w", err)
	}
	return out.object(pushJSON{
		Reference: ref,
		Digest:    desc.Digest.String(),
		MediaType: desc.MediaType,
		Size:      desc.Size,
		TOCDigest: in.Layers[0].TOCDigest.String(),
		Layers:    layersJSON(in),
		Files:     in.Files,
	}, nil, nil)
}

// pushJSON is push's --format json (docs/json.md).
type pushJSON struct {
	Reference string      `json:"reference"`
	Digest    string      `json:"digest"`
	MediaType string      `json:"mediaType"`
	Size      int64       `json:"size"`
	TOCDigest string      `json:"tocDigest"`
	Layers    []layerJSON `json:"layers"`
	Files     int         `json:"files"`
}

// countOf is "1 entry", "2 entries".
func countOf(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// levelFlag is --compression-level: a name that is no level of either
// compression is refused as it is set (from the config file too); whether
// it fits --compression is checked once both are known.
type levelFlag struct{ level *string }

func (f levelFlag) String() string { return *f.level }
func (f levelFlag) Type() string   { return "string" }

func (f levelFlag) Set(v string) error {
	if blobber.CheckCompressionLevel(blobber.Gzip, v) != nil && blobber.CheckCompressionLevel(blobber.Zstd, v) != nil {
		return fmt.Errorf("compression level must be 1 to 9 (gzip) or fastest, default, better, best (zstd), not %q", v)
	}
	*f.level = v
	return nil
}
