package blobber_test

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"os"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// Each registry is reached with its own settings: two registries whose
// certificates two different CAs signed, from one client, and a plain
// HTTP registry while HTTPS is forced for the others.
func TestWithRegistrySettingsPerHost(t *testing.T) {
	caA, caFileA := newCA(t, "CA A")
	caB, caFileB := newCA(t, "CA B")
	regA := registrytest.Start(t, registrytest.WithTLS(caA))
	regB := registrytest.Start(t, registrytest.WithTLS(caB))
	plain := registrytest.Start(t)
	ctx := context.Background()
	src := os.DirFS(newTree(t))
	yes := true

	// One CA for all: the other registry's certificate is not trusted.
	_, err := newClient(t, blobber.WithCAFile(caFileA)).Push(ctx, regB.Host()+"/r/files:v1", src)
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Fatalf("push to B trusting A's CA: %v", err)
	}

	c := newClient(t,
		blobber.WithPlainHTTP(false),
		blobber.WithRegistry(regA.Host(), blobber.RegistrySettings{CAFile: caFileA}),
		blobber.WithRegistry(regB.Host(), blobber.RegistrySettings{CAFile: caFileB}),
		blobber.WithRegistry(plain.Host(), blobber.RegistrySettings{PlainHTTP: &yes}),
	)
	for _, reg := range []*registrytest.Registry{regA, regB, plain} {
		ref := reg.Host() + "/r/files:v1"
		_, err := c.Push(ctx, ref, src)
		testtree.Must(t, err)
		img, err := c.Open(ctx, ref)
		testtree.Must(t, err)
		img.Close()
	}
}

func TestWithRegistryTLSContradictsWithTransport(t *testing.T) {
	_, err := blobber.NewClient(
		blobber.WithTransport(http.DefaultTransport),
		blobber.WithRegistry("r.example", blobber.RegistrySettings{CAFile: "ca.pem"}),
	)
	if !errors.Is(err, blobber.ErrInvalidOption) {
		t.Fatalf("NewClient = %v, want ErrInvalidOption", err)
	}
}
