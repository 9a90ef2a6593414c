package blobber_test

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"oras.land/oras-go/v2/registry/remote/errcode"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// TestLoginThroughTheClient: Client.Login reaches the registry as the
// client does (here, trusting its CA only with WithCAFile), stores only a
// credential the registry accepts, and the stored credential is what a
// client built on the store then sends; Logout removes it once.
func TestLoginThroughTheClient(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no platform credential helper to detect
	ca, caFile := newCA(t, "login CA")
	reg := registrytest.Start(t, registrytest.WithTLS(ca), registrytest.WithBasicAuth(map[string]string{"alice": "pw-5c2e"}))
	ctx := context.Background()
	config := filepath.Join(t.TempDir(), "docker", "config.json")
	store, err := blobber.OpenCredentialStore(config)
	testtree.Must(t, err)

	_, err = newClient(t).Login(ctx, store, reg.Host(), "alice", "pw-5c2e")
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Fatalf("login without the CA: %v", err)
	}

	c := newClient(t, blobber.WithCAFile(caFile))
	_, err = c.Login(ctx, store, reg.Host(), "alice", "wrong")
	var resp *errcode.ErrorResponse
	if !errors.Is(err, blobber.ErrUnauthorized) || !errors.As(err, &resp) || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("login with a wrong password: %v", err)
	}
	if !strings.HasPrefix(err.Error(), "login to "+reg.Host()+": ") {
		t.Errorf("message %q does not say what was being done", err)
	}
	if _, err := os.Stat(config); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused credential was stored (%v)", err)
	}

	helper, err := c.Login(ctx, store, reg.Host(), "alice", "pw-5c2e")
	if err != nil || helper != "" {
		t.Fatalf("login: helper %q, %v", helper, err)
	}
	authed := newClient(t, blobber.WithCAFile(caFile), blobber.WithCredentials(store.Credential()))
	_, err = authed.Push(ctx, reg.Host()+"/login/site:v1", os.DirFS(newTree(t)))
	testtree.Must(t, err)

	if _, err := store.Logout(ctx, reg.Host()); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Logout(ctx, reg.Host()); !errors.Is(err, blobber.ErrNotLoggedIn) {
		t.Errorf("second logout: %v", err)
	}
	_, err = newClient(t, blobber.WithCAFile(caFile), blobber.WithCredentials(store.Credential())).Tags(ctx, reg.Host()+"/login/site")
	if !errors.Is(err, blobber.ErrUnauthorized) {
		t.Errorf("after logout: %v", err)
	}
}

// TestLoginOffline: an offline client makes no request to log in.
func TestLoginOffline(t *testing.T) {
	store, err := blobber.OpenCredentialStore(filepath.Join(t.TempDir(), "config.json"))
	testtree.Must(t, err)
	c := newClient(t, blobber.WithCache(t.TempDir()), blobber.WithOffline())
	if _, err := c.Login(context.Background(), store, "127.0.0.1:1", "u", "p"); !errors.Is(err, blobber.ErrOffline) {
		t.Fatalf("offline login: %v", err)
	}
}
