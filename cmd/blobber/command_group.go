package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// asCommandGroup makes cmd, which only holds subcommands (blobber, blobber
// cache), refuse an unknown subcommand as a usage error, exit 2 like every
// other, with cobra's suggestions on a line of their own. Without
// arguments it prints its help, as before.
func asCommandGroup(cmd *cobra.Command) {
	cmd.Args = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		if c.SuggestionsMinimumDistance <= 0 {
			c.SuggestionsMinimumDistance = 2 // what cobra's own suggestions use
		}
		var meant []string
		for _, s := range c.SuggestionsFor(args[0]) {
			meant = append(meant, strings.Join(append([]string{c.CommandPath(), s}, args[1:]...), " "))
		}
		return usageWithHint(fmt.Errorf("unknown command %q for %q", args[0], c.CommandPath()), meant...)
	}
	cmd.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
}
