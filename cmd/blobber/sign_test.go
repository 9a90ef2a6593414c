package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/blobber-dev/blobber/signing"
)

// genKey writes a fresh P-256 key pair as NAME.key (cosign's encrypted
// format, under PASSWORD), NAME.pub, NAME-pkcs8.pem and NAME-sec1.pem.
func genKey(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: gen-key NAME PASSWORD")
	}
	name := ts.MkAbs(args[0])
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ts.Check(err)
	enc, err := signing.EncryptKey(priv, []byte(args[1]))
	ts.Check(err)
	pub, err := signing.MarshalPublicKey(priv.Public())
	ts.Check(err)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(priv)
	ts.Check(err)
	sec1, err := x509.MarshalECPrivateKey(priv)
	ts.Check(err)
	ts.Check(os.MkdirAll(filepath.Dir(name), 0o755))
	ts.Check(os.WriteFile(name+".key", enc, 0o600))
	ts.Check(os.WriteFile(name+".pub", pub, 0o644))
	ts.Check(os.WriteFile(name+"-pkcs8.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), 0o600))
	ts.Check(os.WriteFile(name+"-sec1.pem", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}), 0o600))
}
