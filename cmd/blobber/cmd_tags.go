package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

func newTagsCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "tags REPO",
		Short: "List the tags of a repository",
		Args:  exactArgs(1, "REPO"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := g.refuseOffline("tags", true); err != nil {
				return err
			}
			out, err := outputOf(cmd)
			if err != nil {
				return err
			}
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			tags, err := c.Tags(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if tags == nil {
				tags = []string{}
			}
			return out.object(tagsJSON{Repository: args[0], Tags: tags}, tags, func(w io.Writer) error {
				for _, t := range tags {
					if _, err := fmt.Fprintln(w, printable(t)); err != nil {
						return err
					}
				}
				return nil
			})
		},
		ValidArgsFunction: completeArgs(g, argNone),
	}
}

// tagsJSON is tags' --format json (docs/json.md).
type tagsJSON struct {
	Repository string   `json:"repository"`
	Tags       []string `json:"tags"`
}
