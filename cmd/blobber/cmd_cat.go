package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newCatCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "cat REF PATH",
		Short: "Print one file of an artifact, fetching only its chunks",
		Args:  exactArgs(2, "REF PATH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			img, err := g.open(cmd, args[0])
			if err != nil {
				return err
			}
			defer img.Close()
			name := cleanPath(args[1])
			if err := refuseDirectory(cmd, img, name); err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if err := writeFileTo(cmd.OutOrStdout(), img, name); err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			g.reportStats(cmd, img)
			return nil
		},
		ValidArgsFunction: completeArgs(g, argRef, argPath),
	}
}
