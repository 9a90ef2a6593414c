package blobber_test

import (
	"context"
	"errors"
	"os"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// offlineSigner and offlineVerifier stand in for a policy: offline,
// neither may be reached.
type offlineSigner struct{ t *testing.T }

func (s offlineSigner) Sign(context.Context, ocispec.Descriptor) ([]byte, error) {
	s.t.Error("the signer was called offline")
	return nil, errors.New("no")
}

type offlineVerifier struct{ t *testing.T }

func (v offlineVerifier) Verify(context.Context, ocispec.Descriptor, []byte) (string, error) {
	v.t.Error("the verifier was called offline")
	return "", errors.New("no")
}

// Offline, every verb that needs the network refuses (ErrOffline) without
// a request; reads work from the cache.
func TestOfflineMakesNoRequest(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	cacheDir := t.TempDir()
	src := newTree(t)
	ref := proxy.Host() + "/offline/files:v1"
	online := newClient(t, blobber.WithCache(cacheDir))
	_, err := online.Push(ctx, ref, os.DirFS(src))
	testtree.Must(t, err)
	img, err := online.Open(ctx, ref) // caches the tag, manifest and TOC
	testtree.Must(t, err)
	img.Close()

	proxy.Reset()
	c := newClient(t, blobber.WithCache(cacheDir), blobber.WithOffline(),
		blobber.WithSigner(offlineSigner{t}), blobber.WithVerifier(offlineVerifier{t}))
	verbs := map[string]func() error{
		"Push": func() error {
			_, err := c.Push(ctx, proxy.Host()+"/offline/files:v2", os.DirFS(src))
			return err
		},
		"Tags": func() error {
			_, err := c.Tags(ctx, proxy.Host()+"/offline/files")
			return err
		},
		"Sign": func() error {
			_, err := c.Sign(ctx, ref)
			return err
		},
		"Verify": func() error {
			_, _, err := c.Verify(ctx, ref)
			return err
		},
		"Signatures": func() error {
			_, _, err := c.Signatures(ctx, ref)
			return err
		},
	}
	for name, verb := range verbs {
		if err := verb(); !errors.Is(err, blobber.ErrOffline) {
			t.Errorf("%s offline: %v, want ErrOffline", name, err)
		}
	}
	if n := proxy.Stats().Requests; n != 0 {
		t.Errorf("%d requests offline", n)
	}

	// A read, from the cache (without the verifier, which needs the network).
	reader := newClient(t, blobber.WithCache(cacheDir), blobber.WithOffline())
	img, err = reader.Open(ctx, ref)
	testtree.Must(t, err)
	img.Close()
	if n := proxy.Stats().Requests; n != 0 {
		t.Errorf("%d requests for an offline read", n)
	}
}
