package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/signing"
)

// verifyFlags are the verification policy, registered on every command
// that reads an artifact or its signatures (newRootCmd lists them) and on
// no other. Named as cosign verify names them.
type verifyFlags struct {
	verify              bool
	key                 string
	identity            string
	identityRegexp      string
	oidcIssuer          string
	oidcIssuerRegexp    string
	trustedRoot         string
	ignoreTlog          bool
	ignoreSCT           bool
	useSignedTimestamps bool
}

func (v *verifyFlags) register(f *pflag.FlagSet) {
	f.BoolVar(&v.verify, "verify", false, "read nothing unless a signature of the artifact verifies (implied by the policy flags)")
	f.StringVar(&v.key, "verify-key", "", "accept signatures made with the key whose public half is in this PEM file (cosign.pub)")
	f.StringVar(&v.identity, "certificate-identity", "", "keyless: accept signatures by this identity (email or URI)")
	f.StringVar(&v.identityRegexp, "certificate-identity-regexp", "", "keyless: accept identities matching this regular expression")
	f.StringVar(&v.oidcIssuer, "certificate-oidc-issuer", "", "keyless: accept identities vouched for by this OIDC issuer")
	f.StringVar(&v.oidcIssuerRegexp, "certificate-oidc-issuer-regexp", "", "keyless: accept OIDC issuers matching this regular expression")
	f.StringVar(&v.trustedRoot, "trusted-root", "", "Sigstore trusted root (trusted_root.json) to verify against (default: Sigstore's public instance, fetched with TUF)")
	f.BoolVar(&v.ignoreTlog, "insecure-ignore-tlog", false, "accept signatures that are not in a transparency log")
	f.BoolVar(&v.ignoreSCT, "insecure-ignore-sct", false, "accept certificates without a certificate transparency timestamp")
	f.BoolVar(&v.useSignedTimestamps, "use-signed-timestamps", false, "require an RFC 3161 timestamp and check the certificate at its time")
}

// wanted tells whether a verification policy was asked for on the flags f
// of the command that runs.
func (v *verifyFlags) wanted(f *pflag.FlagSet) bool {
	if v.verify {
		return true
	}
	for _, name := range []string{"verify-key", "certificate-identity", "certificate-identity-regexp",
		"certificate-oidc-issuer", "certificate-oidc-issuer-regexp"} {
		if f.Changed(name) {
			return true
		}
	}
	return false
}

// verifier builds the verifier of the policy the flags describe.
func (v *verifyFlags) verifier() (blobber.Verifier, error) {
	p := signing.Policy{
		CertificateIdentity:         v.identity,
		CertificateIdentityRegexp:   v.identityRegexp,
		CertificateOIDCIssuer:       v.oidcIssuer,
		CertificateOIDCIssuerRegexp: v.oidcIssuerRegexp,
		InsecureIgnoreTlog:          v.ignoreTlog,
		InsecureIgnoreSCT:           v.ignoreSCT,
		UseSignedTimestamps:         v.useSignedTimestamps,
	}
	keyless := v.identity != "" || v.identityRegexp != "" || v.oidcIssuer != "" || v.oidcIssuerRegexp != ""
	if v.key == "" && !keyless {
		return nil, usagef("--verify needs a policy: --verify-key FILE, or --certificate-identity[-regexp] and --certificate-oidc-issuer[-regexp]")
	}
	if keyless && (v.identity == "" && v.identityRegexp == "" || v.oidcIssuer == "" && v.oidcIssuerRegexp == "") {
		return nil, usagef("keyless verification needs --certificate-identity[-regexp] and --certificate-oidc-issuer[-regexp]")
	}
	if v.key != "" {
		key, err := signing.LoadPublicKey(v.key)
		if err != nil {
			return nil, usagef("--verify-key: %v", err)
		}
		p.Key = key
	}
	switch {
	case v.trustedRoot != "":
		tr, err := signing.LoadTrustedRoot(v.trustedRoot)
		if err != nil {
			return nil, usagef("--trusted-root: %v", err)
		}
		p.TrustedRoot = tr
	case keyless || !v.ignoreTlog || v.useSignedTimestamps:
		// Fetched only when a signature needs it: one refused on its face
		// (a key signature with no log entry) is refused offline.
		p.FetchTrustedRoot = func() (root.TrustedMaterial, error) {
			tr, err := root.FetchTrustedRoot()
			if err != nil {
				return nil, fmt.Errorf("fetching Sigstore's trusted root (pass --trusted-root FILE, or --insecure-ignore-tlog with --verify-key): %w", err)
			}
			return tr, nil
		}
	}
	verifier, err := signing.NewVerifier(p)
	if err != nil {
		return nil, usageError{withPolicyFlags(err)}
	}
	return flagNamingVerifier{verifier}, nil
}

// flagNamingVerifier says which flag accepts a signature the policy
// refused, where signing names the Policy field.
type flagNamingVerifier struct{ *signing.Verifier }

func (f flagNamingVerifier) Verify(ctx context.Context, manifest ocispec.Descriptor, bundle []byte) (string, error) {
	signer, err := f.Verifier.Verify(ctx, manifest, bundle)
	var noTlog *signing.NoTlogEntryError
	if errors.As(err, &noTlog) {
		return "", errors.New(noTlog.Explain("pass " + policyFlag(noTlog.Field())))
	}
	return signer, err
}

// withPolicyFlags says which flags settle a policy signing refused: its
// error names the fields of signing.Policy, which the flags set.
func withPolicyFlags(err error) error {
	var pe *signing.PolicyError
	if !errors.As(err, &pe) {
		return err
	}
	var flags []string
	for _, field := range pe.Fields {
		if flag := policyFlag(field); flag != "" {
			flags = append(flags, flag)
		}
	}
	if len(flags) == 0 {
		return fmt.Errorf("verification policy: %s", pe.Problem)
	}
	return fmt.Errorf("verification policy: %s: pass %s", pe.Problem, strings.Join(flags, " or "))
}

// policyFlag is the flag that sets a field of signing.Policy.
func policyFlag(field string) string {
	switch field {
	case "Key":
		return "--verify-key"
	case "CertificateIdentity":
		return "--certificate-identity"
	case "CertificateIdentityRegexp":
		return "--certificate-identity-regexp"
	case "CertificateOIDCIssuer":
		return "--certificate-oidc-issuer"
	case "CertificateOIDCIssuerRegexp":
		return "--certificate-oidc-issuer-regexp"
	case "TrustedRoot", "FetchTrustedRoot": // Sigstore's, fetched, unless --trusted-root
		return "--trusted-root"
	case "InsecureIgnoreTlog":
		return "--insecure-ignore-tlog"
	case "InsecureIgnoreSCT":
		return "--insecure-ignore-sct"
	case "UseSignedTimestamps":
		return "--use-signed-timestamps"
	}
	return ""
}

// option is the client option of the policy, if one was asked for.
func (v *verifyFlags) option(f *pflag.FlagSet) ([]blobber.Option, error) {
	if !v.wanted(f) {
		return nil, nil
	}
	verifier, err := v.verifier()
	if err != nil {
		return nil, err
	}
	return []blobber.Option{blobber.WithVerifier(verifier)}, nil
}

func newVerifyCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify REF",
		Short: "Check an artifact's signatures against the policy, without reading it",
		Long: `Resolve REF to a digest and check the signatures attached to it against the
policy of the verification flags (--verify-key, or --certificate-identity and
--certificate-oidc-issuer). Prints the digest and who signed it; fails (exit
code 5) when no signature verifies.`,
		Args: exactArgs(1, "REF"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := g.refuseOffline("verify", false); err != nil {
				return err
			}
			out, err := outputOf(cmd)
			if err != nil {
				return err
			}
			g.verify.verify = true
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			desc, sigs, err := c.Verify(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			j := signaturesJSON{Digest: desc.Digest.String(), Signatures: signatureList(sigs)}
			return out.object(j, []string{desc.Digest.String()}, func(w io.Writer) error {
				for _, s := range sigs {
					if s.Err == nil {
						if _, err := fmt.Fprintf(w, "verified %s signed by %s\n", desc.Digest, printable(s.Signer)); err != nil {
							return err
						}
					}
				}
				return nil
			})
		},
	}
	return cmd
}
