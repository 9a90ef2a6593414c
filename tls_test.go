package blobber_test

import (
	"context"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"oras.land/oras-go/v2/registry/remote/auth"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

func newCA(t *testing.T, name string) (*registrytest.CA, string) {
	t.Helper()
	ca, err := registrytest.NewCA(name)
	testtree.Must(t, err)
	path := filepath.Join(t.TempDir(), "ca.pem")
	testtree.Must(t, ca.WriteFile(path))
	return ca, path
}

// TestHTTPSRegistry: a registry on 127.0.0.1 that speaks TLS is reached
// over HTTPS without being told (plain HTTP only for one that does not),
// and its certificate is verified.
func TestHTTPSRegistry(t *testing.T) {
	ca, caFile := newCA(t, "test CA")
	reg := registrytest.Start(t, registrytest.WithTLS(ca))
	ctx := context.Background()
	src := newTree(t)
	ref := reg.Host() + "/tls/files:v1"

	_, err := newClient(t).Push(ctx, ref, os.DirFS(src))
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Fatalf("push to an untrusted registry: %v", err)
	}

	c := newClient(t, blobber.WithCAFile(caFile))
	_, err = c.Push(ctx, ref, os.DirFS(src))
	testtree.Must(t, err)
	dst := filepath.Join(t.TempDir(), "out")
	_, err = c.Pull(ctx, ref, dst)
	testtree.Must(t, err)
	testtree.Equal(t, src, dst)

	_, err = newClient(t, blobber.WithInsecureSkipVerify()).Open(ctx, ref)
	testtree.Must(t, err)

	// The loopback default still finds a plain HTTP registry; forcing
	// HTTPS on it fails.
	plain := registrytest.Start(t)
	_, err = newClient(t).Push(ctx, plain.Host()+"/tls/files:v1", os.DirFS(src))
	testtree.Must(t, err)
	_, err = newClient(t, blobber.WithPlainHTTP(false)).Open(ctx, plain.Host()+"/tls/files:v1")
	if err == nil || !strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
		t.Errorf("HTTPS to a plain registry: %v", err)
	}

	// A CA file that cannot be read is an error as soon as the client is made.
	_, err = blobber.NewClient(blobber.WithCAFile(filepath.Join(t.TempDir(), "missing.pem")))
	if err == nil || !strings.Contains(err.Error(), "CA file") {
		t.Errorf("missing CA file: %v", err)
	}
}

func TestMutualTLSRegistry(t *testing.T) {
	ca, caFile := newCA(t, "test CA")
	clientCA, _ := newCA(t, "client CA")
	reg := registrytest.Start(t, registrytest.WithTLS(ca), registrytest.WithClientAuth(clientCA))
	ctx := context.Background()
	ref := reg.Host() + "/mtls/files:v1"

	_, err := newClient(t, blobber.WithCAFile(caFile)).Push(ctx, ref, os.DirFS(newTree(t)))
	if err == nil || !strings.Contains(err.Error(), "certificate required") {
		t.Errorf("without a client certificate: %v", err)
	}

	cert, err := clientCA.IssueClient("alice")
	testtree.Must(t, err)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	testtree.Must(t, registrytest.WriteKeyPair(cert, certFile, keyFile))
	c := newClient(t, blobber.WithCAFile(caFile), blobber.WithClientCert(certFile, keyFile))
	_, err = c.Push(ctx, ref, os.DirFS(newTree(t)))
	testtree.Must(t, err)
	_, err = c.Open(ctx, ref)
	testtree.Must(t, err)

	// A certificate from a CA the registry does not trust is refused.
	stranger, _ := newCA(t, "stranger CA")
	cert, err = stranger.IssueClient("mallory")
	testtree.Must(t, err)
	testtree.Must(t, registrytest.WriteKeyPair(cert, certFile, keyFile))
	_, err = newClient(t, blobber.WithCAFile(caFile), blobber.WithClientCert(certFile, keyFile)).Open(ctx, ref)
	if err == nil {
		t.Error("a client certificate from an untrusted CA was accepted")
	}
}

// TestTokenAuthOverTLS: with an HTTPS registry the token realm is HTTPS
// too, and the CA file covers both.
func TestTokenAuthOverTLS(t *testing.T) {
	ca, caFile := newCA(t, "test CA")
	reg := registrytest.Start(t, registrytest.WithTLS(ca), registrytest.WithTokenAuth(registrytest.TokenAuth{
		Users: map[string]string{"alice": alicePassword},
	}))
	if realm := reg.TokenServer().Realm(); !strings.HasPrefix(realm, "https://127.0.0.1:") {
		t.Fatalf("realm %s", realm)
	}
	ctx := context.Background()
	src := newTree(t)
	ref := reg.Host() + "/tls/token:v1"
	c := newClient(t, blobber.WithCAFile(caFile), blobber.WithCredentials(auth.StaticCredential(reg.Host(), alice)))
	_, err := c.Push(ctx, ref, os.DirFS(src))
	testtree.Must(t, err)
	dst := filepath.Join(t.TempDir(), "out")
	_, err = c.Pull(ctx, ref, dst)
	testtree.Must(t, err)
	testtree.Equal(t, src, dst)
}
