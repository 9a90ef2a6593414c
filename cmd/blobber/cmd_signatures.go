package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func newSignaturesCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "signatures REF",
		Aliases: []string{"inspect"},
		Short:   "List the signatures attached to an artifact and who made them",
		Long: `List the signatures attached to the manifest REF names: when each was made
and who the signature says signed it. With a verification policy (see
--verify-key, --certificate-identity) each is also verified.`,
		Args: exactArgs(1, "REF"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := g.refuseOffline("signatures", false); err != nil {
				return err
			}
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			desc, sigs, err := c.Signatures(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if len(sigs) == 0 {
				_, err := fmt.Fprintf(out, "%s has no signatures\n", desc.Digest)
				return err
			}
			w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintf(w, "SIGNATURE\tCREATED\tSIGNER\tSTATUS\n")
			for _, s := range sigs {
				status := "verified"
				if s.Err != nil {
					status = oneLine(s.Err.Error())
				}
				who := printable(s.Signer)
				if s.Signer == "" {
					who = printable(s.Claimed) + " (claimed)"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", s.Descriptor.Digest.Encoded()[:12], printable(s.Created), who, status)
			}
			return w.Flush()
		},
	}
	return cmd
}
