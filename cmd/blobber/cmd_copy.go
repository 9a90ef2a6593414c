package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/blobber-dev/blobber"
)

type copyOptions struct {
	recursive            bool
	tags                 []string
	fromLayout, toLayout bool
	progress             progressFlags
}

func newCopyCmd(g *globalOptions) *cobra.Command {
	o := &copyOptions{}
	cmd := &cobra.Command{
		Use:   "copy SRC DST",
		Short: "Copy an artifact (or image index) to another repository, registry or OCI layout",
		Long: `Copy the artifact SRC names, with everything its manifest (or image index)
references, to DST, and print its digest, which is the same at DST. DST is a
repository with a tag, several tags (repo:v1,latest), a digest, or nothing:
then SRC's tag. Only what DST lacks is sent, and within one registry blobs are
mounted, not uploaded. Every byte read from SRC is checked against its digest.
With -r, referrers (signatures among them) come along, so that a signed
artifact still verifies at DST.`,
		Example: `  blobber copy registry.example.com/team/site:v1 localhost:5000/team/site
  blobber copy -r registry.example.com/team/site:v1 backup.example.com/team/site:v1,latest
  blobber copy --to-oci-layout registry.example.com/team/site:v1 ./layout:v1`,
		Args: exactArgs(2, "SRC DST"),
		RunE: func(cmd *cobra.Command, args []string) error { return runCopy(cmd, g, o, args[0], args[1]) },
	}
	cmd.ValidArgsFunction = completeArgs(g, argRef, argRef)
	f := cmd.Flags()
	f.BoolVarP(&o.recursive, "recursive", "r", false, "copy the referrers too (signatures, SBOMs…), as oras cp -r does")
	f.StringArrayVar(&o.tags, "tag", nil, "tag the copy at DST with this tag too (repeatable)")
	f.BoolVar(&o.fromLayout, "from-oci-layout", false, "SRC is an OCI image layout directory (path[:tag|@digest])")
	f.BoolVar(&o.toLayout, "to-oci-layout", false, "DST is an OCI image layout directory (path[:tag|@digest]), created if missing")
	o.progress.register(f)
	return cmd
}

func runCopy(cmd *cobra.Command, g *globalOptions, o *copyOptions, src, dst string) error {
	if err := g.refuseOffline("copy", o.fromLayout && o.toLayout || g.ociLayout); err != nil {
		return err
	}
	out, err := outputOf(cmd)
	if err != nil {
		return err
	}
	opts := []blobber.CopyOption{blobber.WithCopyTags(o.tags...)}
	if o.recursive {
		opts = append(opts, blobber.WithReferrers())
	}
	if o.fromLayout {
		opts = append(opts, blobber.WithCopyFromOCILayout())
	}
	if o.toLayout {
		opts = append(opts, blobber.WithCopyToOCILayout())
	}
	progress, stopProgress, err := startProgress(cmd, o.progress)
	if err != nil {
		return err
	}
	defer stopProgress(false)
	g.progress = progress
	c, err := g.client(cmd)
	if err != nil {
		return err
	}
	res, err := c.Copy(cmd.Context(), src, dst, opts...)
	stopProgress(err == nil)
	if err != nil {
		return err
	}
	tags := res.Tags
	if tags == nil {
		tags = []string{}
	}
	js := copyJSON{
		Source:      src,
		Destination: dst,
		Digest:      res.Descriptor.Digest.String(),
		MediaType:   res.Descriptor.MediaType,
		Size:        res.Descriptor.Size,
		Tags:        tags,
		Referrers:   res.Referrers,
		Transferred: countJSON(res.Transferred),
		Mounted:     countJSON(res.Mounted),
		Skipped:     countJSON(res.Skipped),
	}
	return out.object(js, []string{js.Digest}, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "copied %s to %s: %s sent, %s mounted, %s already there\n", js.Digest, printable(dst),
			describeCount(res.Transferred), describeCount(res.Mounted), describeCount(res.Skipped))
		return err
	})
}

// describeCount is "3 contents (1.2 KiB)".
func describeCount(n blobber.CopyCount) string {
	return fmt.Sprintf("%s (%s)", countOf(n.Count, "content", "contents"), formatSize(n.Bytes))
}

// copyJSON is copy's --format json (docs/json.md).
type copyJSON struct {
	Source      string        `json:"source"`
	Destination string        `json:"destination"`
	Digest      string        `json:"digest"`
	MediaType   string        `json:"mediaType"`
	Size        int64         `json:"size"`
	Tags        []string      `json:"tags"`
	Referrers   int           `json:"referrers"`
	Transferred copyCountJSON `json:"transferred"`
	Mounted     copyCountJSON `json:"mounted"`
	Skipped     copyCountJSON `json:"skipped"`
}

type copyCountJSON struct {
	Count int   `json:"count"`
	Bytes int64 `json:"bytes"`
}

func countJSON(n blobber.CopyCount) copyCountJSON {
	return copyCountJSON{Count: n.Count, Bytes: n.Bytes}
}
