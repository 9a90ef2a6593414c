package registrytest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"golang.org/x/crypto/bcrypt"

	// Register the access controllers the options below configure.
	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd"
)

// WithBasicAuth makes the registry require HTTP basic authentication
// (Distribution's htpasswd access controller) for these users, name to
// password. Every user may pull and push everywhere.
func WithBasicAuth(users map[string]string) Option {
	return func(o *options) { o.basicUsers = users }
}

// TokenAuth configures the token server of [WithTokenAuth].
type TokenAuth struct {
	// Users may pull and push everywhere: name to password.
	Users map[string]string
	// Readers may only pull: name to password.
	Readers map[string]string
	// IdentityTokens are OAuth2 refresh tokens (docker's "identitytoken"),
	// token to user name; the user must be in Users or Readers.
	IdentityTokens map[string]string
	// PublicPrefixes name repositories anyone may pull without
	// credentials: a repository matches a prefix it starts with.
	PublicPrefixes []string
	// Repositories, for a user listed, limits what Users and Readers
	// grant to the repositories that start with one of the prefixes
	// (PublicPrefixes still apply); users not listed are not limited.
	Repositories map[string][]string
	// TTL is how long a token lives (default 5 minutes). The registry
	// refuses a token the moment it expires: Distribution itself allows
	// a minute of clock skew, which would hide a client that never
	// refreshes.
	TTL time.Duration
}

// WithTokenAuth makes the registry require bearer tokens (Distribution's
// token access controller) issued by a token server that registrytest
// starts on 127.0.0.1 beside it, the way Docker Hub, GHCR or Harbor
// authenticate. Tokens are ES256 JWTs signed by a key made for the run.
func WithTokenAuth(cfg TokenAuth) Option {
	return func(o *options) { o.token = &cfg }
}

// writeHtpasswd writes users in htpasswd format (bcrypt) to path.
func writeHtpasswd(path string, users map[string]string) error {
	names := make([]string, 0, len(users))
	for name := range users {
		names = append(names, name)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	for _, name := range names {
		hash, err := bcrypt.GenerateFromPassword([]byte(users[name]), bcrypt.MinCost)
		if err != nil {
			return err
		}
		fmt.Fprintf(&buf, "%s:%s\n", name, hash)
	}
	return os.WriteFile(path, buf.Bytes(), 0o600)
}

func basicAuthConfig(dir string, users map[string]string) (configuration.Auth, error) {
	path := filepath.Join(dir, "htpasswd")
	if err := writeHtpasswd(path, users); err != nil {
		return nil, err
	}
	return configuration.Auth{"htpasswd": {"realm": "registrytest", "path": path}}, nil
}

// TokenServer issues the tokens of a registry started with [WithTokenAuth].
// It answers the distribution token protocol (GET with optional basic
