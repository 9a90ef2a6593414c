package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/blobber-dev/blobber"
)

func newPullCmd(g *globalOptions) *cobra.Command {
	var overwrite, dereference bool
	var progressOpts progressFlags
	cmd := &cobra.Command{
		Use:   "pull REF DIR",
		Short: "Extract a whole artifact into a directory",
		Long: `Extract a whole artifact into DIR, creating it if needed. Existing files are
never replaced unless --overwrite is given; a pull that fails removes what
it created and leaves what was already in DIR as it was.`,
		Args: exactArgs(2, "REF DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := outputOf(cmd)
			if err != nil {
				return err
			}
			progress, stopProgress, err := startProgress(cmd, progressOpts)
			if err != nil {
				return err
			}
			defer stopProgress(false)
			g.progress = progress
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			var opts []blobber.PullOption
			if overwrite {
				opts = append(opts, blobber.WithOverwrite())
			}
			if dereference {
				opts = append(opts, blobber.WithDereferenceLinks())
			}
			desc, err := c.Pull(cmd.Context(), args[0], args[1], opts...)
			stopProgress(err == nil)
			if err != nil {
				return err
			}
			if !out.structured() {
				return out.object(nil, []string{desc.Digest.String()}, func(w io.Writer) error {
					_, err := fmt.Fprintf(w, "pulled %s into %s\n", desc.Digest, args[1])
					return err
				})
			}
			in, err := c.Inspect(cmd.Context(), pinned(args[0], desc.Digest.String()))
			if err != nil {
				return fmt.Errorf("describing what was pulled: %w", err)
			}
			return out.object(pullJSON{Reference: args[0], Digest: desc.Digest.String(), Files: in.Files, Bytes: in.TotalSize, Target: args[1]}, nil, nil)
		},
	}
	cmd.ValidArgsFunction = completeArgs(g, argRef, argLocalDir)
	cmd.Flags().BoolVar(&overwrite, "overwrite", false, "replace existing files")
	cmd.Flags().BoolVar(&dereference, "dereference-links", false, "write each symlink as the file or directory it leads to in the artifact (for Windows without the right to create symlinks)")
	progressOpts.register(cmd.Flags())
	return cmd
}

// pullJSON is pull's --format json (docs/json.md): the files and bytes
// written, as the artifact's table of contents counts them.
type pullJSON struct {
	Reference string `json:"reference"`
	Digest    string `json:"digest"`
	Files     int    `json:"files"`
	Bytes     int64  `json:"bytes"`
	Target    string `json:"target"`
}
