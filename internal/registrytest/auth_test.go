package registrytest

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/errcode"
)

// authRepo is a repository client for reg with the given credential.
func authRepo(t *testing.T, reg *Registry, name string, cred auth.Credential) *remote.Repository {
	t.Helper()
	repo, err := remote.NewRepository(reg.Host() + "/" + name)
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = reg.ClientTLS() == nil
	repo.Client = &auth.Client{
		Client:     &http.Client{Transport: &http.Transport{TLSClientConfig: reg.ClientTLS()}},
		Credential: auth.StaticCredential(reg.Host(), cred),
		Cache:      auth.NewCache(),
	}
	return repo
}

func pushBytes(ctx context.Context, repo *remote.Repository, data []byte) error {
	desc := content.NewDescriptorFromBytes("application/octet-stream", data)
	return repo.Push(ctx, desc, bytes.NewReader(data))
}

func wantStatus(t *testing.T, err error, status int) {
	t.Helper()
	var resp *errcode.ErrorResponse
	if !errors.As(err, &resp) || resp.StatusCode != status {
		t.Fatalf("got %v, want HTTP %d", err, status)
	}
}

func TestBasicAuth(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reg := Start(t, WithBasicAuth(map[string]string{"alice": "s3cret"}))

	resp, err := http.Get(reg.URL() + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("Www-Authenticate"), "Basic ") {
		t.Fatalf("anonymous: %s %q", resp.Status, resp.Header.Get("Www-Authenticate"))
	}
	if err := pushBytes(ctx, authRepo(t, reg, "a/b", auth.Credential{Username: "alice", Password: "s3cret"}), []byte("x")); err != nil {
		t.Fatalf("push with the right password: %v", err)
	}
	err = pushBytes(ctx, authRepo(t, reg, "a/b", auth.Credential{Username: "alice", Password: "wrong"}), []byte("y"))
	wantStatus(t, err, http.StatusUnauthorized)
}

func TestTokenAuth(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reg := Start(t, WithTokenAuth(TokenAuth{
		Users:          map[string]string{"alice": "s3cret"},
		Readers:        map[string]string{"bob": "r3ader"},
		IdentityTokens: map[string]string{"refresh-alice": "alice"},
		PublicPrefixes: []string{"public/"},
	}))
	ts := reg.TokenServer()
	alice := auth.Credential{Username: "alice", Password: "s3cret"}

	for _, name := range []string{"public/x", "private/x"} {
		if err := pushBytes(ctx, authRepo(t, reg, name, alice), []byte(name)); err != nil {
			t.Fatalf("alice pushes to %s: %v", name, err)
		}
	}
	data := []byte("public/x")
	desc := content.NewDescriptorFromBytes("application/octet-stream", data)
	if _, err := content.FetchAll(ctx, authRepo(t, reg, "public/x", auth.EmptyCredential), desc); err != nil {
		t.Errorf("anonymous pull of a public repository: %v", err)
	}
	privDesc := content.NewDescriptorFromBytes("application/octet-stream", []byte("private/x"))
	_, err := content.FetchAll(ctx, authRepo(t, reg, "private/x", auth.EmptyCredential), privDesc)
	wantStatus(t, err, http.StatusUnauthorized)

	bob := auth.Credential{Username: "bob", Password: "r3ader"}
	if _, err := content.FetchAll(ctx, authRepo(t, reg, "private/x", bob), privDesc); err != nil {
		t.Errorf("reader pulls: %v", err)
	}
	wantStatus(t, pushBytes(ctx, authRepo(t, reg, "private/x", bob), []byte("bob")), http.StatusUnauthorized)

	// A wrong password is refused by the token server, with its message.
	err = pushBytes(ctx, authRepo(t, reg, "private/x", auth.Credential{Username: "alice", Password: "nope"}), []byte("z"))
	wantStatus(t, err, http.StatusUnauthorized)
	if !strings.Contains(err.Error(), "incorrect username or password") {
		t.Errorf("error %q lacks the token server's message", err)
	}

	// An identity token is an OAuth2 refresh token.
	if err := pushBytes(ctx, authRepo(t, reg, "private/y", auth.Credential{RefreshToken: "refresh-alice"}), []byte("y")); err != nil {
		t.Errorf("push with an identity token: %v", err)
	}
	if ts.Requests() == 0 {
		t.Error("token server saw no requests")
	}
}

func TestTokenRepositoryLimits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reg := Start(t, WithTokenAuth(TokenAuth{
		Users:        map[string]string{"alice": "s3cret", "carol": "c4rol"},
		Repositories: map[string][]string{"carol": {"carol/"}},
	}))
	carol := auth.Credential{Username: "carol", Password: "c4rol"}
	if err := pushBytes(ctx, authRepo(t, reg, "carol/x", carol), []byte("c")); err != nil {
		t.Fatalf("carol pushes to her repository: %v", err)
	}
	wantStatus(t, pushBytes(ctx, authRepo(t, reg, "team/x", carol), []byte("c")), http.StatusUnauthorized)
	data := []byte("alice's")
	if err := pushBytes(ctx, authRepo(t, reg, "team/x", auth.Credential{Username: "alice", Password: "s3cret"}), data); err != nil {
		t.Fatalf("alice pushes: %v", err)
	}
	_, err := content.FetchAll(ctx, authRepo(t, reg, "team/x", carol), content.NewDescriptorFromBytes("application/octet-stream", data))
	wantStatus(t, err, http.StatusUnauthorized)
}

func TestTokenExpiryIsEnforced(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// The push (POST, then a PUT whose body cannot be sent twice) must
	// end before the token expires: with 300 ms, under the race detector
	// and the package's other tests, it did not always.
	const ttl = 2 * time.Second
	reg := Start(t, WithTokenAuth(TokenAuth{Users: map[string]string{"alice": "s3cret"}, TTL: ttl}))
	ts := reg.TokenServer()
	repo := authRepo(t, reg, "a/b", auth.Credential{Username: "alice", Password: "s3cret"})
	data := []byte("hello")
	if err := pushBytes(ctx, repo, data); err != nil {
		t.Fatal(err)
	}
	desc := content.NewDescriptorFromBytes("application/octet-stream", data)
	if _, err := content.FetchAll(ctx, repo, desc); err != nil {
		t.Fatal(err)
	}
	before := ts.Requests()
	time.Sleep(ttl + 200*time.Millisecond)
	if _, err := content.FetchAll(ctx, repo, desc); err != nil {
		t.Fatalf("fetch after the token expired: %v", err)
	}
	if ts.ExpiredUses() == 0 || ts.Requests() == before {
		t.Errorf("expired token was not refused and replaced: %d expired uses, %d→%d token requests",
			ts.ExpiredUses(), before, ts.Requests())
	}
}

func TestTLS(t *testing.T) {
	t.Parallel()
	ca, err := NewCA("test CA")
	if err != nil {
		t.Fatal(err)
	}
	reg := Start(t, WithTLS(ca))
	if !strings.HasPrefix(reg.URL(), "https://127.0.0.1:") {
		t.Fatalf("URL %s", reg.URL())
	}
	get := func(cfg *tls.Config) error {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
		resp, err := c.Get(reg.URL() + "/v2/")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return errors.New(resp.Status)
		}
		return nil
	}
	if err := get(reg.ClientTLS()); err != nil {
		t.Errorf("trusting the CA: %v", err)
	}
	if err := get(nil); err == nil || !strings.Contains(err.Error(), "unknown authority") {
		t.Errorf("not trusting the CA: %v", err)
	}

	clientCA, err := NewCA("client CA")
	if err != nil {
		t.Fatal(err)
	}
	mtls := Start(t, WithTLS(ca), WithClientAuth(clientCA))
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: mtls.ClientTLS()}}
	resp, err := c.Get(mtls.URL() + "/v2/")
	if err != nil {
		t.Fatalf("with a client certificate: %v", err)
	}
	resp.Body.Close()
	noCert := &tls.Config{RootCAs: ca.Pool()}
	c = &http.Client{Transport: &http.Transport{TLSClientConfig: noCert}}
	if resp, err := c.Get(mtls.URL() + "/v2/"); err == nil {
		resp.Body.Close()
		t.Error("mutual TLS registry answered a client without a certificate")
	}

	// The counting proxy reaches an HTTPS registry, and speaks plain HTTP.
	proxy := mtls.CountingProxy(t)
	resp, err = http.Get(proxy.URL() + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("through the proxy: %s", resp.Status)
	}
}

func TestForwardProxy(t *testing.T) {
	t.Parallel()
	ca, err := NewCA("test CA")
	if err != nil {
		t.Fatal(err)
	}
	plain := Start(t)
	secure := Start(t, WithTLS(ca, "secure.registry.test"))
	fp, err := StartForwardProxy(map[string]string{
		"plain.registry.test:5000":  plain.Host(),
		"secure.registry.test:5000": secure.Host(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fp.Close)
	proxyURL, _ := url.Parse(fp.URL())
	tr := &http.Transport{Proxy: http.ProxyURL(proxyURL), TLSClientConfig: secure.ClientTLS()}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	for _, u := range []string{"http://plain.registry.test:5000/v2/", "https://secure.registry.test:5000/v2/"} {
		resp, err := c.Get(u)
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", u, resp.Status)
		}
	}
	resp, err := c.Get("http://elsewhere.test/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("unrouted host: %s", resp.Status)
	}
	want := []string{"GET plain.registry.test:5000/v2/", "CONNECT secure.registry.test:5000", "GET elsewhere.test/v2/"}
	if got := fp.Requests(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("proxy saw %q, want %q", got, want)
	}
}
