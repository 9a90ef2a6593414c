package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/blobber-dev/blobber"
)

func newSignaturesCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "signatures REF",
		Short: "List the signatures attached to an artifact and who made them",
		Long: `List the signatures attached to the manifest REF names: when each was made
and who the signature says signed it. With a verification policy (see
--verify-key, --certificate-identity) each is also verified.`,
		Args: exactArgs(1, "REF"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := g.refuseOffline("signatures", false); err != nil {
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
			desc, sigs, err := c.Signatures(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			j := signaturesJSON{Digest: desc.Digest.String(), Signatures: signatureList(sigs)}
			return out.object(j, signatureDigests(sigs), func(out io.Writer) error {
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
			})
		},
	}
	return cmd
}

// signaturesJSON is signatures' and verify's --format json (docs/json.md).
type signaturesJSON struct {
	Digest     string          `json:"digest"`
	Signatures []signatureJSON `json:"signatures"`
}

type signatureJSON struct {
	Digest   string `json:"digest"`
	Created  string `json:"created,omitempty"`
	Claimed  string `json:"claimed,omitempty"`
	Signer   string `json:"signer,omitempty"`
	Verified bool   `json:"verified"`
	Error    string `json:"error,omitempty"`
}

func signatureList(sigs []blobber.Signature) []signatureJSON {
	out := []signatureJSON{}
	for _, s := range sigs {
		j := signatureJSON{Digest: s.Descriptor.Digest.String(), Created: s.Created, Claimed: s.Claimed, Signer: s.Signer, Verified: s.Err == nil}
		if s.Err != nil {
			j.Error = s.Err.Error()
		}
		out = append(out, j)
	}
	return out
}

// signatureDigests are --quiet's lines: the signatures' manifests.
func signatureDigests(sigs []blobber.Signature) []string {
	var out []string
	for _, s := range sigs {
		out = append(out, s.Descriptor.Digest.String())
	}
	return out
}
