// Package credential finds registry credentials where docker keeps them —
// the docker config file and the credential helpers it names — and stores
// them there on login, so that a `docker login` is all blobber needs and a
// `blobber login` is good for docker too.
package credential

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"

	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
)

// Store is a docker config file and the credential helpers it names.
type Store struct {
	ds *credentials.DynamicStore
}

// Open opens the docker config file at path; "" means docker's own,
// $DOCKER_CONFIG/config.json or else ~/.docker/config.json. A missing file
// is an empty configuration (login creates it).
func Open(path string) (*Store, error) {
	// As docker does: a credential helper when one is configured (or, with
	// an empty configuration, the platform's default helper if installed),
	// else base64 in the config file itself.
	opts := credentials.StoreOptions{AllowPlaintextPut: true, DetectDefaultNativeStore: true}
	var ds *credentials.DynamicStore
	var err error
	if path == "" {
		ds, err = credentials.NewStoreFromDocker(opts)
	} else {
		ds, err = credentials.NewStore(path, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("reading registry credentials: %w", err)
	}
	return &Store{ds: ds}, nil
}

// Path is the config file's path.
func (s *Store) Path() string { return s.ds.ConfigPath() }

// Func resolves the credential for a registry host, for auth.Client.
// Docker Hub's hosts map to its "https://index.docker.io/v1/" entry.
func (s *Store) Func() auth.CredentialFunc {
	get := credentials.Credential(s.ds)
	return func(ctx context.Context, hostport string) (auth.Credential, error) {
		cred, err := get(ctx, hostport)
		if err != nil {
			return auth.EmptyCredential, s.explain(credentials.ServerAddressFromHostname(hostport), err)
		}
		return cred, nil
	}
}

// Lazy is [Store.Func] for the config file at path, opened when a registry
// first asks for credentials; an unreadable file is then the error.
func Lazy(path string) auth.CredentialFunc {
	var (
		once sync.Once
		fn   auth.CredentialFunc
		err  error
	)
	return func(ctx context.Context, hostport string) (auth.Credential, error) {
		once.Do(func() {
			var s *Store
			if s, err = Open(path); err == nil {
				fn = s.Func()
			}
		})
		if err != nil {
			return auth.EmptyCredential, err
		}
		return fn(ctx, hostport)
	}
}

// Login checks cred against the registry (a request to its /v2/ endpoint,
// answering its challenge) and stores it where docker would, with oras-go's
// credentials.Login. It returns the credential helper that holds it, ""
// when the config file does.
func (s *Store) Login(ctx context.Context, reg *remote.Registry, cred auth.Credential) (helper string, err error) {
	host := reg.Reference.Registry
	if client, ok := reg.Client.(*auth.Client); ok {
		// The same client (TLS, proxy, retries) without its token cache:
		// the tokens of a credential being checked stay out of it.
		check := *client
		check.Cache = nil
		reg = &remote.Registry{RepositoryOptions: remote.RepositoryOptions{
			Client:    &check,
			Reference: reg.Reference,
			PlainHTTP: reg.PlainHTTP,
		}}
	}
	if err := credentials.Login(ctx, explaining{s}, reg, cred); err != nil {
		return "", fmt.Errorf("login to %s: %w", host, cause(err))
	}
	return s.helperFor(credentials.ServerAddressFromRegistry(host)), nil
}

// ErrNotLoggedIn: logout found no credential to remove.
var ErrNotLoggedIn = errors.New("not logged in")

// Logout removes the credential stored for host, with oras-go's
// credentials.Logout. It returns the credential helper that held it, ""
// when the config file did.
func (s *Store) Logout(ctx context.Context, host string) (helper string, err error) {
	server := credentials.ServerAddressFromRegistry(host)
	cred, err := s.ds.Get(ctx, server)
	if err != nil {
		return "", s.explain(server, err)
	}
	if cred == auth.EmptyCredential {
		return "", fmt.Errorf("%s: %w", host, ErrNotLoggedIn)
	}
	if err := credentials.Logout(ctx, explaining{s}, host); err != nil {
		return "", cause(err)
	}
	return s.helperFor(server), nil
}

// cause drops the one layer of words oras-go's Login and Logout put around
// an error ("failed to validate the credentials for …"): the caller says
// what was being done, and explaining says which helper or file failed.
func cause(err error) error {
	if inner := errors.Unwrap(err); inner != nil {
		return inner
	}
	return err
}

// explaining is the store whose errors name the credential helper or the
// config file behind them.
type explaining struct{ s *Store }

var _ credentials.Store = explaining{}

func (e explaining) Get(ctx context.Context, server string) (auth.Credential, error) {
	cred, err := e.s.ds.Get(ctx, server)
	if err != nil {
		return auth.EmptyCredential, e.s.explain(server, err)
	}
	return cred, nil
}

func (e explaining) Put(ctx context.Context, server string, cred auth.Credential) error {
	if err := e.s.ds.Put(ctx, server, cred); err != nil {
		return e.s.explain(server, fmt.Errorf("storing the credential: %w", err))
	}
	return nil
}

func (e explaining) Delete(ctx context.Context, server string) error {
	if err := e.s.ds.Delete(ctx, server); err != nil {
		return e.s.explain(server, err)
	}
	return nil
}

// HelperError is a credential helper that could not be run or failed.
type HelperError struct {
	Program string // docker-credential-<name>
	Server  string // the registry it was asked about
	Config  string // the config file that names it
	Err     error
}

func (e *HelperError) Error() string {
	if errors.Is(e.Err, exec.ErrNotFound) {
		return fmt.Sprintf("credential helper %s not found in PATH (%s names it for %s)", e.Program, e.Config, e.Server)
	}
	return fmt.Sprintf("credential helper %s (for %s): %v", e.Program, e.Server, e.Err)
}

func (e *HelperError) Unwrap() error { return e.Err }

// explain names the credential helper or the config file behind err, an
// error from reading, storing or erasing a credential.
func (s *Store) explain(server string, err error) error {
	var execErr *exec.Error
	if errors.As(err, &execErr) {
		return &HelperError{Program: execErr.Name, Server: server, Config: s.Path(), Err: execErr.Err}
	}
	if helper := s.helperFor(server); helper != "" {
		return &HelperError{Program: "docker-credential-" + helper, Server: server, Config: s.Path(), Err: err}
	}
	return fmt.Errorf("credentials for %s in %s: %w", server, s.Path(), err)
}

// helperFor reads, as docker does, which helper the config file names for
// server: its credHelpers entry, else credsStore.
func (s *Store) helperFor(server string) string {
	data, err := os.ReadFile(s.Path())
	if err != nil {
		return ""
	}
	var cfg struct {
		CredsStore  string            `json:"credsStore"`
		CredHelpers map[string]string `json:"credHelpers"`
	}
	if json.Unmarshal(data, &cfg) != nil {
		return ""
	}
	if h := cfg.CredHelpers[server]; h != "" {
		return h
	}
	return cfg.CredsStore
}
