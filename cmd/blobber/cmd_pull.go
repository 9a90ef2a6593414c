package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/blobber-dev/blobber"
)

func newPullCmd(g *globalOptions) *cobra.Command {
	var overwrite, dereference, noProgress bool
	cmd := &cobra.Command{
		Use:   "pull REF DIR",
		Short: "Extract a whole artifact into a directory",
		Long: `Extract a whole artifact into DIR, creating it if needed. Existing files are
never replaced unless --overwrite is given; a pull that fails removes what
it created and leaves what was already in DIR as it was.`,
		Args: exactArgs(2, "REF DIR"),
		RunE: func(cmd *cobra.Command, args []string) error {
			progress, finish := newProgress(cmd, noProgress)
			defer finish()
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
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "pulled %s into %s\n", desc.Digest, args[1])
			return err
		},
	}
	cmd.Flags().BoolVar(&overwrite, "overwrite", false, "replace existing files")
	cmd.Flags().BoolVar(&dereference, "dereference-links", false, "write each symlink as the file or directory it leads to in the artifact (for Windows without the right to create symlinks)")
	cmd.Flags().BoolVar(&noProgress, "no-progress", false, "do not draw progress bars (they are drawn only on a terminal)")
	return cmd
}
