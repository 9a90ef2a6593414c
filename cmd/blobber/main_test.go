package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/rogpeppe/go-internal/testscript"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/blobber-dev/blobber/internal/registrytest"
)

// TestMain lets the test binary act as the blobber command in scripts, so
// the scripts run the real CLI end to end.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"blobber": func() { os.Exit(run()) },
		// A docker credential helper, for credsStore and credHelpers.
		"docker-credential-blobbertest": func() { os.Exit(fakeCredentialHelper()) },
	})
}

// Passwords of the secured registries' users, which scripts check never
// show up in output.
const (
	authPassword   = "correct-horse-7d1e"  // alice on $AUTH_REGISTRY
	tokenPassword  = "battery-staple-4c2f" // alice on $TOKEN_REGISTRY
	readerPassword = "reader-only-9b3a"    // bob on $TOKEN_REGISTRY, pull only
	identityToken  = "identity-token-51f0" // alice's refresh token on $TOKEN_REGISTRY
)

// TestScripts runs testdata/script/*.txtar against a real in-process
// CNCF Distribution registry, whose address scripts find in $REGISTRY.
func TestScripts(t *testing.T) {
	reg := registrytest.Start(t)
	sec := startSecuredRegistries(t, reg)
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: false,
		Setup: func(env *testscript.Env) error {
			env.Setenv("REGISTRY", reg.Host())
			env.Setenv("DOCKER_CONFIG", env.WorkDir+"/.docker")
			env.Setenv("BLOBBER_CACHE_DIR", env.WorkDir+"/.cache/blobber")
			env.Setenv("UNREACHABLE", "127.0.0.1:1")
			sec.setenv(env)
			return nil
		},
		Condition: func(cond string) (bool, error) {
			if cond == "root" {
				return os.Geteuid() == 0, nil
			}
			if cond == "fuse" {
				return fuseAvailable(), nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"push-plain-image": pushPlainImage,
			"proxy-saw":        sec.proxySaw,
			"proxy-reset":      func(*testscript.TestScript, bool, []string) { sec.proxy.Reset() },
			"gen-key":          genKey, // signing scripts (sign_test.go)
			"mounted":          cmdMounted,
			"wait-mounted":     cmdWaitMounted, // mount scripts (mount_script_test.go)
			"term-mount":       cmdTermMount,
		},
	})
}

// pushPlainImage pushes an ordinary (not eStargz) single-layer image, the
// kind `docker push` makes, to the reference in args[0].
func pushPlainImage(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: push-plain-image REF")
	}
	ref, err := registry.ParseReference(args[0])
	ts.Check(err)
	repo, err := remote.NewRepository(ref.Registry + "/" + ref.Repository)
	ts.Check(err)
	repo.PlainHTTP = true
	ctx := context.Background()

	var tgz bytes.Buffer
	zw := gzip.NewWriter(&tgz)
	tw := tar.NewWriter(zw)
	ts.Check(tw.WriteHeader(&tar.Header{Name: "hello.txt", Mode: 0o644, Size: 6}))
	_, err = tw.Write([]byte("hello\n"))
	ts.Check(err)
	ts.Check(tw.Close())
	ts.Check(zw.Close())
	layer := content.NewDescriptorFromBytes(ocispec.MediaTypeImageLayerGzip, tgz.Bytes())
	ts.Check(repo.Push(ctx, layer, bytes.NewReader(tgz.Bytes())))
	config := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	configDesc := content.NewDescriptorFromBytes(ocispec.MediaTypeImageConfig, config)
	ts.Check(repo.Push(ctx, configDesc, bytes.NewReader(config)))
	manifest, err := json.Marshal(ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    configDesc,
		Layers:    []ocispec.Descriptor{layer},
	})
	ts.Check(err)
	_, err = oras.TagBytes(ctx, repo, ocispec.MediaTypeImageManifest, manifest, ref.Reference)
	ts.Check(err)
}

// securedRegistries are the registries, proxies and files the auth_* and
// tls_* scripts use, started once for all scripts.
type securedRegistries struct {
	env   map[string]string
	proxy *registrytest.ForwardProxy
}

func startSecuredRegistries(t *testing.T, plain *registrytest.Registry) *securedRegistries {
	dir := t.TempDir()
	ca, err := registrytest.NewCA("blobber test CA")
	if err != nil {
		t.Fatal(err)
	}
	clientCA, err := registrytest.NewCA("blobber test client CA")
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(dir, "ca.pem")
	if err := ca.WriteFile(caFile); err != nil {
		t.Fatal(err)
	}
	clientCert, err := clientCA.IssueClient("blobber-test")
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem")
	if err := registrytest.WriteKeyPair(clientCert, certFile, keyFile); err != nil {
		t.Fatal(err)
	}

	basic := registrytest.Start(t, registrytest.WithBasicAuth(map[string]string{"alice": authPassword}))
	token := registrytest.Start(t, registrytest.WithTokenAuth(registrytest.TokenAuth{
		Users:          map[string]string{"alice": tokenPassword},
		Readers:        map[string]string{"bob": readerPassword},
		IdentityTokens: map[string]string{identityToken: "alice"},
		PublicPrefixes: []string{"public/"},
	}))
	secure := registrytest.Start(t, registrytest.WithTLS(ca, "secure.blobber.invalid"))
	mtls := registrytest.Start(t, registrytest.WithTLS(ca), registrytest.WithClientAuth(clientCA))

	// The registry refuses (403) everything under denied/ and writes under
	// readonly/, as registries answer accounts without permission.
	deny := plain.CountingProxy(t)
	denied := []byte(`{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}`)
	deny.SetFaults(func(r *http.Request) *registrytest.Fault {
		write := r.Method != http.MethodGet && r.Method != http.MethodHead
		if strings.HasPrefix(r.URL.Path, "/v2/denied/") || write && strings.HasPrefix(r.URL.Path, "/v2/readonly/") {
			return &registrytest.Fault{Status: http.StatusForbidden, Body: denied}
		}
		return nil
	})

	// Names that resolve nowhere, reachable only through the proxy.
	proxy, err := registrytest.StartForwardProxy(map[string]string{
		"registry.blobber.invalid:5000": plain.Host(),
		"secure.blobber.invalid:5000":   secure.Host(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)

	return &securedRegistries{proxy: proxy, env: map[string]string{
		"AUTH_REGISTRY":        basic.Host(),
		"AUTH_PASSWORD":        authPassword,
		"TOKEN_REGISTRY":       token.Host(),
		"TOKEN_PASSWORD":       tokenPassword,
		"READER_PASSWORD":      readerPassword,
		"IDENTITY_TOKEN":       identityToken,
		"TLS_REGISTRY":         secure.Host(),
		"MTLS_REGISTRY":        mtls.Host(),
		"CA_FILE":              caFile,
		"CLIENT_CERT":          certFile,
		"CLIENT_KEY":           keyFile,
		"DENY_REGISTRY":        deny.Host(),
		"FORWARD_PROXY":        proxy.URL(),
		"PROXIED_REGISTRY":     "registry.blobber.invalid:5000",
		"PROXIED_TLS_REGISTRY": "secure.blobber.invalid:5000",
	}}
}

func (s *securedRegistries) setenv(env *testscript.Env) {
	for k, v := range s.env {
		env.Setenv(k, v)
	}
}

// proxySaw checks that the forward proxy (used by one script only) was (or, negated, was not) asked
// for something matching the regular expression args[0].
func (s *securedRegistries) proxySaw(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: proxy-saw REGEXP")
	}
	re, err := regexp.Compile(args[0])
	ts.Check(err)
	seen := s.proxy.Requests()
	found := slices.ContainsFunc(seen, re.MatchString)
	switch {
	case found && neg:
		ts.Fatalf("the proxy was asked for %s: %q", args[0], seen)
	case !found && !neg:
		ts.Fatalf("the proxy was never asked for %s: %q", args[0], seen)
	}
}

// fakeCredentialHelper speaks the docker credential helper protocol
// (get, store, erase, list), keeping credentials in $WORK/helper-store.json.
func fakeCredentialHelper() int {
	path := filepath.Join(os.Getenv("WORK"), "helper-store.json")
	type entry struct{ Username, Secret string }
	creds := map[string]entry{}
	if data, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(data, &creds); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	save := func() int {
		data, _ := json.Marshal(creds)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	}
	in, _ := io.ReadAll(os.Stdin)
	server := strings.TrimSpace(string(in))
	action := ""
	if len(os.Args) > 1 {
		action = os.Args[1]
	}
	switch action {
	case "get":
		c, ok := creds[server]
		if !ok {
			fmt.Println("credentials not found in native keychain")
			return 1
		}
		out, _ := json.Marshal(map[string]string{"ServerURL": server, "Username": c.Username, "Secret": c.Secret})
		fmt.Println(string(out))
	case "store":
		var c struct{ ServerURL, Username, Secret string }
		if err := json.Unmarshal(in, &c); err != nil {
			fmt.Println(err)
			return 1
		}
		creds[c.ServerURL] = entry{c.Username, c.Secret}
		return save()
	case "erase":
		if _, ok := creds[server]; !ok {
			fmt.Println("credentials not found in native keychain")
			return 1
		}
		delete(creds, server)
		return save()
	default:
		fmt.Fprintf(os.Stderr, "unsupported action %q\n", action)
		return 1
	}
	return 0
}
