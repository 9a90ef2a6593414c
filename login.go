package blobber

import (
	"context"
	"fmt"

	"oras.land/oras-go/v2/registry/remote/auth"

	"github.com/blobber-dev/blobber/internal/credential"
	"github.com/blobber-dev/blobber/internal/target"
)

// CredentialStore is where docker keeps registry credentials: its config
// file and the credential helpers (docker-credential-*) it names. A login
// stored here is docker's too, and the other way round.
type CredentialStore struct {
	s *credential.Store
}

// OpenCredentialStore opens the docker config file at path; "" means
// docker's own, $DOCKER_CONFIG/config.json or else ~/.docker/config.json.
// A missing file is an empty configuration, which a Login creates.
func OpenCredentialStore(path string) (*CredentialStore, error) {
	s, err := credential.Open(path)
	if err != nil {
		return nil, err
	}
	return &CredentialStore{s: s}, nil
}

// Path is the config file's path.
func (s *CredentialStore) Path() string { return s.s.Path() }

// Credential resolves the credential stored for a registry host, for
// WithCredentials. Docker Hub's hosts find its "https://index.docker.io/v1/"
// entry, as docker's do.
func (s *CredentialStore) Credential() auth.CredentialFunc { return s.s.Func() }

// Logout removes the credential stored for the registry host
// (host[:port]; "docker.io" for Docker Hub). It returns the credential
// helper that held it, "" when the config file did, and ErrNotLoggedIn
// when there was none.
func (s *CredentialStore) Logout(ctx context.Context, host string) (helper string, err error) {
	return s.s.Logout(ctx, host)
}

// ErrNotLoggedIn: Logout found no credential to remove.
var ErrNotLoggedIn = credential.ErrNotLoggedIn

// Login checks username and password (or a token) against the registry at
// host (host[:port]; "docker.io" for Docker Hub), as the client reaches
// registries (its TLS settings, scheme, retries and user agent), and only
// if the registry accepts them stores them in store, where docker would:
// with the credential helper the config names, else in the file itself.
// It returns that helper, "" when the config file holds the credential. A
// registry that refuses them is ErrUnauthorized, wrapping its
// errcode.ErrorResponse.
func (c *Client) Login(ctx context.Context, store *CredentialStore, host, username, password string) (helper string, err error) {
	if c.opts.offline {
		return "", fmt.Errorf("login to %s: %w", host, ErrOffline)
	}
	reg, err := target.NewRegistry(ctx, host, c.opts.target)
	if err != nil {
		return "", classify(err)
	}
	helper, err = store.s.Login(ctx, reg, auth.Credential{Username: username, Password: password})
	return helper, classify(err)
}
