package bundle

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"strings"
)

// Fulcio's certificate extensions naming the OIDC issuer (v2, then v1).
var (
	oidIssuerV2 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}
	oidIssuerV1 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 1}
)

// ClaimedSigner reads who a bundle says signed it, without verifying.
func ClaimedSigner(bundle []byte) string {
	type cert struct {
		RawBytes string `json:"rawBytes"`
	}
	var b struct {
		VerificationMaterial struct {
			Certificate *cert `json:"certificate"`
			Chain       *struct {
				Certificates []cert `json:"certificates"`
			} `json:"x509CertificateChain"`
			PublicKey *struct {
				Hint string `json:"hint"`
			} `json:"publicKey"`
		} `json:"verificationMaterial"`
	}
	if json.Unmarshal(bundle, &b) != nil {
		return "?"
	}
	vm := b.VerificationMaterial
	if vm.PublicKey != nil {
		return "key " + vm.PublicKey.Hint
	}
	raw := ""
	if vm.Certificate != nil {
		raw = vm.Certificate.RawBytes
	} else if vm.Chain != nil && len(vm.Chain.Certificates) > 0 {
		raw = vm.Chain.Certificates[0].RawBytes
	}
	der, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return "?"
	}
	crt, err := x509.ParseCertificate(der)
	if err != nil {
		return "?"
	}
	return certificateSigner(crt)
}

func certificateSigner(crt *x509.Certificate) string {
	var ids []string
	for _, u := range crt.URIs {
		ids = append(ids, u.String())
	}
	ids = append(ids, crt.EmailAddresses...)
	issuer := ""
	for _, ext := range crt.Extensions {
		switch {
		case ext.Id.Equal(oidIssuerV2):
			var s string
			if _, err := asn1.Unmarshal(ext.Value, &s); err == nil {
				issuer = s
			}
		case ext.Id.Equal(oidIssuerV1) && issuer == "":
			issuer = string(ext.Value)
		}
	}
	return strings.Join(ids, ",") + " (issuer " + issuer + ")"
}
