package blobber_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"oras.land/oras-go/v2/registry/remote/auth"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

const alicePassword = "alice-pw-0c7e"

var alice = auth.Credential{Username: "alice", Password: alicePassword}

// authTree is a tree whose layer spans several pull segments (~4 MiB each),
// so a pull makes several range requests.
func authTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(7, 8))
	big := make([]byte, 10<<20)
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	testtree.Must(t, os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o644))
	testtree.Must(t, os.WriteFile(filepath.Join(dir, "note.txt"), []byte("note\n"), 0o644))
	return dir
}

// credentialsFor gives cred to host only, and records every host asked.
type credentialLog struct {
	mu    sync.Mutex
	asked []string
}

func (l *credentialLog) fn(host string, cred auth.Credential) auth.CredentialFunc {
	return func(_ context.Context, h string) (auth.Credential, error) {
		l.mu.Lock()
		l.asked = append(l.asked, h)
		l.mu.Unlock()
		if h == host || host == "*" {
			return cred, nil
		}
		return auth.EmptyCredential, nil
	}
}

func (l *credentialLog) hosts() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.asked...)
}

func TestBasicAuthRoundTrip(t *testing.T) {
	reg := registrytest.Start(t, registrytest.WithBasicAuth(map[string]string{"alice": alicePassword}))
	ctx := context.Background()
	src := newTree(t)
	ref := reg.Host() + "/basic/files:v1"
	c := newClient(t, blobber.WithCredentials(auth.StaticCredential(reg.Host(), alice)))
	_, err := c.Push(ctx, ref, os.DirFS(src))
	testtree.Must(t, err)
	dst := filepath.Join(t.TempDir(), "out")
	_, err = c.Pull(ctx, ref, dst)
	testtree.Must(t, err)
	testtree.Equal(t, src, dst)

	// The same, reading the credential from a docker config file.
	config := filepath.Join(t.TempDir(), "config.json")
	basic := "YWxpY2U6YWxpY2UtcHctMGM3ZQ==" // alice:alice-pw-0c7e
	testtree.Must(t, os.WriteFile(config, []byte(`{"auths":{"`+reg.Host()+`":{"auth":"`+basic+`"}}}`), 0o600))
	_, err = newClient(t, blobber.WithRegistryConfig(config)).Open(ctx, ref)
	testtree.Must(t, err)

	wrong := newClient(t, blobber.WithCredentials(auth.StaticCredential(reg.Host(), auth.Credential{Username: "alice", Password: "nope"})))
	_, err = wrong.Tags(ctx, reg.Host()+"/basic/files")
	if !errors.Is(err, blobber.ErrUnauthorized) || !strings.Contains(err.Error(), "unauthorized (authentication required)") {
		t.Errorf("wrong password: %v", err)
	}
}

func TestTokenAuthRoundTripAndCaching(t *testing.T) {
	reg := registrytest.Start(t, registrytest.WithTokenAuth(registrytest.TokenAuth{
		Users:          map[string]string{"alice": alicePassword},
		PublicPrefixes: []string{"public/"},
	}))
	ts := reg.TokenServer()
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	src := authTree(t)
	ref := proxy.Host() + "/public/tree:v1"
	c := newClient(t, blobber.WithCredentials(auth.StaticCredential(proxy.Host(), alice)), blobber.WithConcurrency(1))
	_, err := c.Push(ctx, ref, os.DirFS(src))
	testtree.Must(t, err)

	// At most one token serves every request of a pull: tokens are cached
	// per scope, not fetched per request (and the client may still hold
	// the push's token, whose scope covers pulls).
	before := ts.Requests()
	proxy.Reset()
	dst := filepath.Join(t.TempDir(), "out")
	_, err = c.Pull(ctx, ref, dst)
	testtree.Must(t, err)
	testtree.Equal(t, src, dst)
	st := proxy.Stats()
	if got := ts.Requests() - before; got > 1 || st.BlobRequests < 2 {
		t.Errorf("pull: %d token requests for %d registry requests (%d blob requests), want at most 1", got, st.Requests, st.BlobRequests)
	}
	// A Client keeps its tokens from one operation to the next.
	before = ts.Requests()
	for range 3 {
		img, err := c.Open(ctx, ref)
		testtree.Must(t, err)
		img.Close()
	}
	if got := ts.Requests() - before; got != 0 {
		t.Errorf("three more opens fetched %d tokens, want 0", got)
	}

	// Anonymous: a public repository (anonymous token), not a private one.
	anon := newClient(t)
	_, err = anon.Pull(ctx, ref, filepath.Join(t.TempDir(), "anon"))
	testtree.Must(t, err)
	_, err = anon.Open(ctx, proxy.Host()+"/private/none:v1")
	if !errors.Is(err, blobber.ErrUnauthorized) {
		t.Errorf("anonymous read of a private repository: %v", err)
	}
	wrong := newClient(t, blobber.WithCredentials(auth.StaticCredential(proxy.Host(), auth.Credential{Username: "alice", Password: "nope"})))
	_, err = wrong.Tags(ctx, proxy.Host()+"/public/tree")
	if !errors.Is(err, blobber.ErrUnauthorized) || !strings.Contains(err.Error(), "incorrect username or password") {
		t.Errorf("wrong password: %v", err)
	}
}

// TestExpiredTokenIsRefreshed: tokens live a second here, and the registry
// refuses them the moment they expire; a slow pull outlives several.
func TestExpiredTokenIsRefreshed(t *testing.T) {
	reg := registrytest.Start(t, registrytest.WithTokenAuth(registrytest.TokenAuth{
		Users: map[string]string{"alice": alicePassword},
	}))
	ts := reg.TokenServer()
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	src := authTree(t)
	ref := proxy.Host() + "/slow/tree:v1"
	creds := blobber.WithCredentials(auth.StaticCredential(proxy.Host(), alice))
	// The push sets up, with tokens that outlive a slow machine; the
	// client under test gets only tokens of a second.
	_, err := newClient(t, creds).Push(ctx, ref, os.DirFS(src))
	testtree.Must(t, err)
	ts.SetTTL(time.Second)
	c := newClient(t, creds, blobber.WithConcurrency(1))

	t.Run("slow pull", func(t *testing.T) {
		before := ts.Requests()
		proxy.SetFaults(func(r *http.Request) *registrytest.Fault {
			if isBlobGet(r) {
				// The pull's few blob requests (the config, the TOC, the
				// layer in one) span more than a token's second.
				return &registrytest.Fault{Delay: 600 * time.Millisecond}
			}
			return nil
		})
		defer proxy.SetFaults(nil)
		dst := filepath.Join(t.TempDir(), "out")
		_, err := c.Pull(ctx, ref, dst)
		testtree.Must(t, err)
		testtree.Equal(t, src, dst)
		if ts.ExpiredUses() == 0 || ts.Requests()-before < 2 {
			t.Errorf("no token expired during the pull (%d expired uses, %d token requests): make it slower",
				ts.ExpiredUses(), ts.Requests()-before)
		}
	})
	t.Run("image kept open", func(t *testing.T) {
		img, err := c.Open(ctx, ref)
		testtree.Must(t, err)
		defer img.Close()
		expired := ts.ExpiredUses()
		time.Sleep(1200 * time.Millisecond)
		// The start of big.bin is far from the end of the layer, which
		// Open has read: reading it needs a request.
		f, err := img.Open("big.bin")
		testtree.Must(t, err)
		defer f.Close()
		if _, err := io.ReadFull(f, make([]byte, 4096)); err != nil {
			t.Fatalf("read after the token expired: %v", err)
		}
		if ts.ExpiredUses() == expired {
			t.Errorf("no request carried the expired token (expired uses stayed %d)", expired)
		}
	})
}

// spy is a server on 127.0.0.1 that records what it is sent.
type spy struct {
	*httptest.Server
	mu    sync.Mutex
	reqs  []string
	authz []string // Authorization headers received
}

func newSpy(t *testing.T, h http.HandlerFunc) *spy {
	s := &spy{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.reqs = append(s.reqs, r.Method+" "+r.URL.Path)
		if a := r.Header.Get("Authorization"); a != "" {
			s.authz = append(s.authz, a)
		}
		s.mu.Unlock()
		if h != nil {
			h(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *spy) seen() (reqs, authz []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.reqs...), append([]string(nil), s.authz...)
}

// checkNoCredentials fails if the spy received any Authorization header.
func (s *spy) checkNoCredentials(t *testing.T, name string, wantRequests bool) {
	t.Helper()
	reqs, authz := s.seen()
	if len(authz) > 0 {
		t.Errorf("%s received credentials: %q", name, authz)
	}
	if wantRequests && len(reqs) == 0 {
		t.Errorf("%s was never asked: the test did not exercise the redirect", name)
	}
	if !wantRequests && len(reqs) > 0 {
		t.Errorf("%s was asked %q", name, reqs)
	}
}

// cdn serves blobs the way blob storage behind a redirect does: with its
// own access to the registry (here alice's), never the client's.
func cdn(t *testing.T, reg *registrytest.Registry) http.HandlerFunc {
	u, _ := url.Parse(reg.URL())
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(u)
		pr.Out.SetBasicAuth("alice", alicePassword)
	}}
	return rp.ServeHTTP
}

func redirectBlobsTo(proxy *registrytest.Proxy, base string) {
	proxy.SetFaults(func(r *http.Request) *registrytest.Fault {
		if !isBlobGet(r) {
			return nil
		}
		return &registrytest.Fault{Status: http.StatusTemporaryRedirect, Header: http.Header{"Location": {base + r.URL.Path}}}
	})
}

// TestCredentialsStayWithTheirRegistry: redirects to other origins (blob
// storage, CDNs) and upload locations elsewhere never get the registry's
// credentials. Every server is on 127.0.0.1; a different port is a
// different origin.
func TestCredentialsStayWithTheirRegistry(t *testing.T) {
	reg := registrytest.Start(t, registrytest.WithBasicAuth(map[string]string{"alice": alicePassword}))
	ctx := context.Background()
	src := newTree(t)
	_, err := newClient(t, blobber.WithCredentials(auth.StaticCredential(reg.Host(), alice))).Push(ctx, reg.Host()+"/leak/files:v1", os.DirFS(src))
	testtree.Must(t, err)

	pull := func(t *testing.T, proxy *registrytest.Proxy, log *credentialLog) error {
		c := newClient(t, blobber.WithCredentials(log.fn(proxy.Host(), alice)))
		_, err := c.Pull(ctx, proxy.Host()+"/leak/files:v1", filepath.Join(t.TempDir(), "out"))
		return err
	}

	t.Run("blob redirected to another origin", func(t *testing.T) {
		proxy := reg.CountingProxy(t)
		store := newSpy(t, cdn(t, reg))
		redirectBlobsTo(proxy, store.URL)
		testtree.Must(t, pull(t, proxy, &credentialLog{}))
		store.checkNoCredentials(t, "blob storage", true)
	})

	t.Run("redirect chain a→b→c", func(t *testing.T) {
		proxy := reg.CountingProxy(t)
		last := newSpy(t, cdn(t, reg))
		middle := newSpy(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, last.URL+r.URL.Path, http.StatusTemporaryRedirect)
		})
		redirectBlobsTo(proxy, middle.URL)
		testtree.Must(t, pull(t, proxy, &credentialLog{}))
		middle.checkNoCredentials(t, "first redirect target", true)
		last.checkNoCredentials(t, "second redirect target", true)
	})

	t.Run("redirect target asks for credentials", func(t *testing.T) {
		proxy := reg.CountingProxy(t)
		phisher := newSpy(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("WWW-Authenticate", `Basic realm="give me yours"`)
			w.WriteHeader(http.StatusUnauthorized)
		})
		redirectBlobsTo(proxy, phisher.URL)
		// Even a credential function that would answer for any host is
		// not asked on behalf of the redirect target.
		log := &credentialLog{}
		c := newClient(t, blobber.WithCredentials(log.fn("*", alice)))
		_, err := c.Pull(ctx, proxy.Host()+"/leak/files:v1", filepath.Join(t.TempDir(), "out"))
		if err == nil {
			t.Fatal("pull succeeded")
		}
		phisher.checkNoCredentials(t, "redirect target", true)
		for _, h := range log.hosts() {
			if h != proxy.Host() {
				t.Errorf("credentials were looked up for %s", h)
			}
		}
	})

	t.Run("upload location on another host", func(t *testing.T) {
		proxy := reg.CountingProxy(t)
		elsewhere := newSpy(t, nil)
		proxy.SetFaults(func(r *http.Request) *registrytest.Fault {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/blobs/uploads/") {
				return &registrytest.Fault{Status: http.StatusAccepted, Header: http.Header{"Location": {elsewhere.URL + "/upload/1"}}}
			}
			return nil
		})
		c := newClient(t, blobber.WithCredentials(auth.StaticCredential(proxy.Host(), alice)), blobber.WithRetries(-1))
		_, err := c.Push(ctx, proxy.Host()+"/leak/other:v1", os.DirFS(newTree(t)))
		if err == nil || !strings.Contains(err.Error(), "different host") {
			t.Errorf("push: %v", err)
		}
		elsewhere.checkNoCredentials(t, "upload location", false)
	})
}

// hostileRegistry answers every registry request with a Bearer challenge
// naming realm, and accepts the token "ok".
func hostileRegistry(t *testing.T, realm string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer ok" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q,service="hostile"`, realm))
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// dialLog is a transport that records the hosts it is asked to reach.
type dialLog struct {
	base  http.RoundTripper
	mu    sync.Mutex
	hosts []string
}

func (d *dialLog) RoundTrip(r *http.Request) (*http.Response, error) {
	d.mu.Lock()
	d.hosts = append(d.hosts, r.URL.Host)
	d.mu.Unlock()
	return d.base.RoundTrip(r)
}

func (d *dialLog) reached(host string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, h := range d.hosts {
		if strings.HasPrefix(h, host) {
			return true
		}
	}
	return false
}

// TestTokenRealmsAreChecked: credentials go to a token realm only if it is
// safe: not plain HTTP for an HTTPS registry, not a link-local, metadata or
// loopback address the registry is not on, and not after a redirect to
// another origin.
func TestTokenRealmsAreChecked(t *testing.T) {
	ctx := context.Background()
	// open reads from the registry at registryHost, which holds cred, and
	// returns the hosts the client reached.
	open := func(t *testing.T, registryHost string, cred auth.Credential) (*dialLog, error) {
		t.Helper()
		d := &dialLog{base: http.DefaultTransport.(*http.Transport).Clone()}
		c := newClient(t, blobber.WithCredentials(auth.StaticCredential(registryHost, cred)), blobber.WithRetries(-1), blobber.WithTransport(d))
		_, err := c.Open(ctx, registryHost+"/r/x:v1")
		return d, err
	}

	t.Run("plain HTTP realm for an HTTPS registry", func(t *testing.T) {
		realm := newSpy(t, nil)
		reg := httptest.NewTLSServer(hostileRegistry(t, realm.URL+"/token").Config.Handler)
		t.Cleanup(reg.Close)
		host := reg.Listener.Addr().String()
		c := newClient(t, blobber.WithCredentials(auth.StaticCredential(host, alice)), blobber.WithInsecureSkipVerify())
		_, err := c.Open(ctx, host+"/r/x:v1")
		if err == nil || !strings.Contains(err.Error(), "uses http but registry was contacted over https") {
			t.Errorf("got %v", err)
		}
		realm.checkNoCredentials(t, "plain HTTP realm", false)
	})

	for name, realm := range map[string]string{
		"link-local metadata realm":  "http://169.254.169.254/latest/api/token",
		"IPv4-mapped metadata realm": "http://[::ffff:169.254.169.254]/token",
		"Azure wire server realm":    "http://168.63.129.16/token",
		"unspecified-address realm":  "http://0.0.0.0/token",
		"non-HTTP realm":             "file:///etc/passwd",
	} {
		t.Run(name, func(t *testing.T) {
			reg := hostileRegistry(t, realm)
			d, err := open(t, reg.Listener.Addr().String(), alice)
			if err == nil {
				t.Fatal("open succeeded")
			}
			u, _ := url.Parse(realm)
			if u.Host != "" && d.reached(u.Host) {
				t.Errorf("the realm %s was contacted", realm)
			}
			t.Log(err)
		})
	}

	t.Run("loopback realm by another name", func(t *testing.T) {
		// The registry is 127.0.0.1; a realm on "localhost" is a loopback
		// address it did not come from.
		realm := newSpy(t, nil)
		_, port, _ := strings.Cut(realm.Listener.Addr().String(), ":")
		reg := hostileRegistry(t, "http://localhost:"+port+"/token")
		_, err := open(t, reg.Listener.Addr().String(), alice)
		if err == nil || !strings.Contains(err.Error(), "blocked prefix") {
			t.Errorf("got %v", err)
		}
		realm.checkNoCredentials(t, "localhost realm", false)
	})

	t.Run("realm redirected to another origin", func(t *testing.T) {
		other := newSpy(t, func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"token":"ok"}`)
		})
		realm := newSpy(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/token?"+r.URL.RawQuery, http.StatusTemporaryRedirect)
		})
		reg := hostileRegistry(t, realm.URL+"/token")
		open(t, reg.Listener.Addr().String(), alice)
		if _, authz := realm.seen(); len(authz) == 0 {
			t.Error("the announced realm got no credentials: the test did not exercise them")
		}
		other.checkNoCredentials(t, "redirect target of the realm", true)
	})

	t.Run("realm redirected to a metadata address", func(t *testing.T) {
		realm := newSpy(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusTemporaryRedirect)
		})
		reg := hostileRegistry(t, realm.URL+"/token")
		d, err := open(t, reg.Listener.Addr().String(), alice)
		if err == nil || !strings.Contains(err.Error(), "redirect of token request rejected") || d.reached("169.254.169.254") {
			t.Errorf("got %v", err)
		}
	})

	t.Run("OAuth2 token request redirected to another origin", func(t *testing.T) {
		other := newSpy(t, nil)
		realm := newSpy(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/token", http.StatusTemporaryRedirect)
		})
		reg := hostileRegistry(t, realm.URL+"/token")
		// An identity token goes in the body of a POST.
		_, err := open(t, reg.Listener.Addr().String(), auth.Credential{RefreshToken: "identity-token-secret"})
		if err == nil || !strings.Contains(err.Error(), "refusing to resend a token request body to another origin") {
			t.Errorf("got %v", err)
		}
		other.checkNoCredentials(t, "redirect target of the realm", false)
	})
}
