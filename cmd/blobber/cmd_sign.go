package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/signing"
)

// signFlags say how to sign: with a key, or keyless (an OIDC token, Fulcio,
// Rekor). Named as cosign sign names them.
type signFlags struct {
	key           string
	keyPass       string
	identityToken string
	fulcioURL     string
	rekorURL      string
	tsaURL        string
	tlogUpload    bool
}

func (s *signFlags) register(f *pflag.FlagSet) {
	f.StringVar(&s.key, "sign-key", "", "sign with the private key in this PEM file (PKCS#8, SEC1, or cosign's encrypted cosign.key)")
	f.StringVar(&s.keyPass, "sign-key-pass", "", "password of an encrypted --sign-key (default $COSIGN_PASSWORD)")
	f.StringVar(&s.identityToken, "identity-token", "", "keyless: OIDC identity token for Fulcio (default $SIGSTORE_ID_TOKEN)")
	f.StringVar(&s.fulcioURL, "fulcio-url", signing.PublicFulcioURL, "keyless: Fulcio instance that issues the signing certificate")
	f.StringVar(&s.rekorURL, "rekor-url", signing.PublicRekorURL, "Rekor transparency log to record signatures in")
	f.StringVar(&s.tsaURL, "timestamp-server-url", "", "RFC 3161 timestamp authority endpoint to timestamp signatures (optional)")
	f.BoolVar(&s.tlogUpload, "tlog-upload", false, "record the signature in the transparency log (default: off with --sign-key, on keyless)")
}

// signer builds the signer the flags describe.
func (s *signFlags) signer(cmd *cobra.Command) (blobber.Signer, error) {
	var opts []signing.Option
	if s.tsaURL != "" {
		opts = append(opts, signing.WithTimestampAuthority(s.tsaURL))
	}
	tlogSet := cmd.Flags().Changed("tlog-upload")
	if s.key != "" {
		pass := s.keyPass
		if !cmd.Flags().Changed("sign-key-pass") {
			pass = os.Getenv("COSIGN_PASSWORD")
		}
		priv, err := signing.LoadKey(s.key, []byte(pass))
		if err != nil {
			return nil, usagef("--sign-key: %v", err)
		}
		if s.tlogUpload {
			opts = append(opts, signing.WithRekor(s.rekorURL))
		}
		signer, err := signing.NewKeySigner(priv, opts...)
		if err != nil {
			return nil, fmt.Errorf("--sign-key: %w", err)
		}
		return signer, nil
	}
	token := s.identityToken
	if token == "" {
		token = os.Getenv("SIGSTORE_ID_TOKEN")
	}
	if token == "" {
		return nil, usagef("signing needs --sign-key FILE, or an OIDC token for keyless signing (--identity-token or $SIGSTORE_ID_TOKEN)")
	}
	opts = append(opts, signing.WithFulcio(s.fulcioURL))
	if tlogSet && !s.tlogUpload {
		opts = append(opts, signing.WithoutTransparencyLog())
	} else {
		opts = append(opts, signing.WithRekor(s.rekorURL))
	}
	return signing.NewKeylessSigner(token, opts...)
}

func newSignCmd(g *globalOptions) *cobra.Command {
	var s signFlags
	cmd := &cobra.Command{
		Use:   "sign REF",
		Short: "Sign an artifact already in a registry (cosign's format)",
		Long: `Sign the manifest REF names and attach the signature as an OCI referrer:
a Sigstore bundle with a DSSE-wrapped in-toto statement, as cosign v3 writes,
so that "cosign verify" accepts it. The tag is resolved once; the signature
is for that digest, which is printed.`,
		Args: exactArgs(1, "REF"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := g.refuseOffline("sign", false); err != nil {
				return err
			}
			signer, err := s.signer(cmd)
			if err != nil {
				return err
			}
			c, err := g.client(cmd, blobber.WithSigner(signer))
			if err != nil {
				return err
			}
			desc, err := c.Sign(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "signed %s\n", desc.Digest)
			return err
		},
	}
	s.register(cmd.Flags())
	return cmd
}
