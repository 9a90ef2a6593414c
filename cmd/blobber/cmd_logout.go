package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/blobber-dev/blobber"
)

func newLogoutCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "logout REGISTRY",
		Short:   "Remove the credential stored for a registry",
		Example: `  blobber logout ghcr.io`,
		Args:    exactArgs(1, "REGISTRY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			host, err := registryHost(args[0])
			if err != nil {
				return err
			}
			store, err := g.credentialStore()
			if err != nil {
				return err
			}
			if _, err := store.Logout(cmd.Context(), host); err != nil {
				if errors.Is(err, blobber.ErrNotLoggedIn) {
					_, err = fmt.Fprintf(cmd.ErrOrStderr(), "blobber: not logged in to %s\n", host)
				}
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "Removed the credential for %s\n", host)
			return err
		},
	}
}
