package credential

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"

	"github.com/blobber-dev/blobber/internal/registrytest"
)

func writeConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func basic(user, password string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
}

func TestCredentialsFromConfig(t *testing.T) {
	ctx := context.Background()
	path := writeConfig(t, `{"auths": {
		"https://index.docker.io/v1/": {"auth": "`+basic("hubuser", "hubpass")+`"},
		"ghcr.io": {"auth": "`+basic("octocat", "ghp_x")+`"},
		"https://legacy.example.com/v1/": {"auth": "`+basic("old", "style")+`"},
		"tokens.example.com": {"identitytoken": "refresh-me"}
	}}`)
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	fn := s.Func()
	for host, want := range map[string]auth.Credential{
		// auth.Client asks for the host it talks to: Docker Hub's is
		// registry-1.docker.io, whose entry docker keys as below.
		"registry-1.docker.io": {Username: "hubuser", Password: "hubpass"},
		"ghcr.io":              {Username: "octocat", Password: "ghp_x"},
		"legacy.example.com":   {Username: "old", Password: "style"},
		"tokens.example.com":   {RefreshToken: "refresh-me"},
		"elsewhere.example":    auth.EmptyCredential,
	} {
		got, err := fn(ctx, host)
		if err != nil || got != want {
			t.Errorf("%s: got %+v, %v; want %+v", host, got, err, want)
		}
	}
}

func TestDockerConfigEnv(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"auths":{"r.example":{"auth":"`+basic("u", "p")+`"}}}`), 0o600)
	t.Setenv("DOCKER_CONFIG", dir)
	s, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	if s.Path() != filepath.Join(dir, "config.json") {
		t.Errorf("path %s", s.Path())
	}
	got, err := Lazy("")(context.Background(), "r.example")
	if err != nil || got.Username != "u" || got.Password != "p" {
		t.Errorf("Lazy: %+v, %v", got, err)
	}
	if _, err := Lazy(writeConfig(t, "{not json"))(context.Background(), "r.example"); err == nil {
		t.Error("Lazy: a malformed config gave no error")
	}
}

func TestMissingHelperIsNamed(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, cfg := range []string{
		`{"credHelpers": {"r.example": "nosuch"}}`,
		`{"credsStore": "nosuch"}`,
	} {
		s, err := Open(writeConfig(t, cfg))
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Func()(context.Background(), "r.example")
		var he *HelperError
		if !errors.As(err, &he) || he.Program != "docker-credential-nosuch" || !errors.Is(err, exec.ErrNotFound) {
			t.Fatalf("%s: got %v", cfg, err)
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "credential helper docker-credential-nosuch not found in PATH") {
			t.Errorf("message %q", msg)
		}
	}
}

// fakeHelper installs a docker-credential-fake that keeps one credential
// in a file, and puts it first in PATH.
func fakeHelper(t *testing.T) (dir string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the fake helper is a shell script")
	}
	dir = t.TempDir()
	script := `#!/bin/sh
store="$(dirname "$0")/stored.json"
case "$1" in
get) server=$(cat)
     if [ -f "$store" ] && grep -q "\"ServerURL\":\"$server\"" "$store"; then cat "$store"; else echo "credentials not found in native keychain"; exit 1; fi ;;
store) cat > "$store" ;;
erase) cat > /dev/null; rm -f "$store" ;;
*) exit 1 ;;
esac
`
	if err := os.WriteFile(filepath.Join(dir, "docker-credential-fake"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return dir
}

func TestLoginLogoutThroughHelper(t *testing.T) {
	dir := fakeHelper(t)
	ctx := context.Background()
	reg := registrytest.Start(t, registrytest.WithBasicAuth(map[string]string{"alice": "pw-4e1d"}))
	config := writeConfig(t, `{"credsStore": "fake"}`)
	s, err := Open(config)
	if err != nil {
		t.Fatal(err)
	}
	r := newRegistry(t, reg.Host())

	if _, err := s.Login(ctx, r, auth.Credential{Username: "alice", Password: "wrong"}); err == nil {
		t.Fatal("login with a wrong password succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "stored.json")); err == nil {
		t.Fatal("a refused credential was stored")
	}
	helper, err := s.Login(ctx, r, auth.Credential{Username: "alice", Password: "pw-4e1d"})
	if err != nil || helper != "fake" {
		t.Fatalf("login: helper %q, %v", helper, err)
	}
	if data, _ := os.ReadFile(config); strings.Contains(string(data), "pw-4e1d") || strings.Contains(string(data), basic("alice", "pw-4e1d")) {
		t.Errorf("the password reached the config file: %s", data)
	}
	got, err := s.Func()(ctx, reg.Host())
	if err != nil || got.Password != "pw-4e1d" {
		t.Fatalf("reading back: %+v, %v", got, err)
	}
	if _, err := s.Logout(ctx, reg.Host()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Logout(ctx, reg.Host()); !errors.Is(err, ErrNotLoggedIn) {
		t.Errorf("second logout: %v", err)
	}
}

func TestLoginToConfigFile(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no platform helper to detect
	ctx := context.Background()
	reg := registrytest.Start(t, registrytest.WithBasicAuth(map[string]string{"alice": "pw-77aa"}))
	config := filepath.Join(t.TempDir(), "new", "config.json")
	s, err := Open(config)
	if err != nil {
		t.Fatal(err)
	}
	helper, err := s.Login(ctx, newRegistry(t, reg.Host()), auth.Credential{Username: "alice", Password: "pw-77aa"})
	if err != nil || helper != "" {
		t.Fatalf("login: helper %q, %v", helper, err)
	}
	info, err := os.Stat(config)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("config file mode %v, want 0600", info.Mode().Perm())
	}
	data, _ := os.ReadFile(config)
	if !strings.Contains(string(data), basic("alice", "pw-77aa")) {
		t.Errorf("config: %s", data)
	}
}

func newRegistry(t *testing.T, host string) *remote.Registry {
	t.Helper()
	r, err := remote.NewRegistry(host)
	if err != nil {
		t.Fatal(err)
	}
	r.PlainHTTP = true
	r.Client = &auth.Client{}
	return r
}
