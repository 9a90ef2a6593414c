package blobber_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"oras.land/oras-go/v2/registry/remote/auth"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// openCountingFS counts every file or directory opened in it: with only
// Open promoted, a walk of it goes through Open.
type openCountingFS struct {
	fs.FS
	opens atomic.Int64
}

func (c *openCountingFS) Open(name string) (fs.File, error) {
	c.opens.Add(1)
	return c.FS.Open(name)
}

// TestPushRefusesBadOptionsBeforeAnything: a push option given a value it
// cannot take fails Push before the tree is walked, a temporary file is
// created or the registry is asked anything (an upload session included).
func TestPushRefusesBadOptionsBeforeAnything(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	src := t.TempDir()
	testtree.Write(t, src, map[string]string{"a.txt": "alpha", "dir/b.txt": "beta"})
	for name, opt := range map[string]blobber.PushOption{
		"WithCompression":           blobber.WithCompression("bzip2"),
		"WithCompression-empty":     blobber.WithCompression(""),
		"WithChunkSize-negative":    blobber.WithChunkSize(-1),
		"WithChunkSize-over-reader": blobber.WithChunkSize(64<<20 + 1),
		"WithUploadChunkSize":       blobber.WithUploadChunkSize(-1),
		"WithExclude":               blobber.WithExclude("ok/*", "a/[b"),
	} {
		t.Run(name, func(t *testing.T) {
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp) // where Push stages the layer
			proxy.Reset()
			tree := &openCountingFS{FS: os.DirFS(src)}
			_, err := newClient(t).Push(context.Background(), proxy.Host()+"/opts/early:v1", tree, blobber.WithKeepModTimes(), opt)
			if err == nil {
				t.Fatal("Push succeeded")
			}
			if !errors.Is(err, blobber.ErrInvalidOption) {
				t.Errorf("Push = %v, want ErrInvalidOption", err)
			}
			if option := strings.SplitN(name, "-", 2)[0]; !strings.Contains(err.Error(), option) {
				t.Errorf("error %q does not name %s", err, option)
			}
			if n := proxy.Stats().Requests; n != 0 {
				t.Errorf("%d requests to the registry, want none", n)
			}
			if n := tree.opens.Load(); n != 0 {
				t.Errorf("%d opens in the tree, want none", n)
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}

func TestParseCompression(t *testing.T) {
	for _, name := range []string{"gzip", "zstd"} {
		if c, err := blobber.ParseCompression(name); err != nil || string(c) != name {
			t.Errorf("ParseCompression(%q) = %q, %v", name, c, err)
		}
	}
	for _, name := range []string{"", "bzip2", "GZIP"} {
		if _, err := blobber.ParseCompression(name); !errors.Is(err, blobber.ErrInvalidOption) {
			t.Errorf("ParseCompression(%q) = %v, want ErrInvalidOption", name, err)
		}
	}
}

// TestNewClientRefusesTLSOptionsWithTransport: a transport given has its
// own TLS settings, so a TLS option next to it would be silently ignored;
// NewClient refuses the pair instead, in either order.
func TestNewClientRefusesTLSOptionsWithTransport(t *testing.T) {
	// Files that would load, so that only the contradiction can fail.
	ca, caFile := newCA(t, "options CA")
	cert, err := ca.IssueClient("alice")
	testtree.Must(t, err)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	testtree.Must(t, registrytest.WriteKeyPair(cert, certFile, keyFile))
	for name, tlsOption := range map[string]blobber.Option{
		"WithCAFile":             blobber.WithCAFile(caFile),
		"WithClientCert":         blobber.WithClientCert(certFile, keyFile),
		"WithInsecureSkipVerify": blobber.WithInsecureSkipVerify(),
	} {
		transport := blobber.WithTransport(http.DefaultTransport.(*http.Transport).Clone())
		for order, opts := range map[string][]blobber.Option{
			"first": {tlsOption, transport},
			"last":  {transport, tlsOption},
		} {
			t.Run(name+"/"+order, func(t *testing.T) {
				_, err := blobber.NewClient(opts...)
				wantContradiction(t, err, "WithTransport", name)
			})
		}
	}
}

// TestNewClientRefusesTwoCredentialSources: WithCredentials and
// WithRegistryConfig both set where credentials come from; NewClient
// refuses the pair instead of keeping the last one given.
func TestNewClientRefusesTwoCredentialSources(t *testing.T) {
	creds := blobber.WithCredentials(auth.StaticCredential("registry.example", auth.Credential{Username: "u", Password: "p"}))
	config := blobber.WithRegistryConfig(filepath.Join(t.TempDir(), "config.json"))
	for order, opts := range map[string][]blobber.Option{
		"credentials-first": {creds, config},
		"config-first":      {config, creds},
	} {
		t.Run(order, func(t *testing.T) {
			_, err := blobber.NewClient(opts...)
			wantContradiction(t, err, "WithCredentials", "WithRegistryConfig")
		})
	}
}

func wantContradiction(t *testing.T, err error, options ...string) {
	t.Helper()
	if !errors.Is(err, blobber.ErrInvalidOption) {
		t.Fatalf("NewClient = %v, want ErrInvalidOption", err)
	}
	for _, option := range options {
		if !strings.Contains(err.Error(), option) {
			t.Errorf("error %q does not name %s", err, option)
		}
	}
}

// TestNewClientRefusesBadValues: an option whose value cannot be right
// fails NewClient, naming the option; the values whose meaning is
// documented (a negative retry count, no cache bound, no progress
// function, docker's own config file) are still taken.
func TestNewClientRefusesBadValues(t *testing.T) {
	for name, opt := range map[string]blobber.Option{
		"WithConcurrency-zero":     blobber.WithConcurrency(0),
		"WithConcurrency-negative": blobber.WithConcurrency(-4),
		"WithCAFile":               blobber.WithCAFile(""),
		"WithClientCert-no-key":    blobber.WithClientCert("cert.pem", ""),
		"WithClientCert-no-cert":   blobber.WithClientCert("", "key.pem"),
		"WithCache":                blobber.WithCache(""),
		"WithCacheTTL":             blobber.WithCacheTTL(-1),
		"WithLimits":               blobber.WithLimits(blobber.Limits{MaxBytes: -1}),
		"WithSigner":               blobber.WithSigner(nil),
		"WithVerifier":             blobber.WithVerifier(nil),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := blobber.NewClient(blobber.WithUserAgent("test"), opt)
			if !errors.Is(err, blobber.ErrInvalidOption) {
				t.Fatalf("NewClient = %v, want ErrInvalidOption", err)
			}
			if option := strings.SplitN(name, "-", 2)[0]; !strings.Contains(err.Error(), option+":") && !strings.Contains(err.Error(), option+"(") {
				t.Errorf("error %q does not name %s", err, option)
			}
		})
	}
	_, err := blobber.NewClient(blobber.WithRetries(-1), blobber.WithCacheMaxSize(-1), blobber.WithCache(t.TempDir()),
		blobber.WithProgress(nil), blobber.WithRegistryConfig(""), blobber.WithConcurrency(1), blobber.WithLimits(blobber.Limits{}))
	if err != nil {
		t.Fatalf("documented values refused: %v", err)
	}
}

// A wrong value, or options that contradict each other, fail NewClient
// (and a wrong push option fails Push) before anything is opened.
func ExampleNewClient_invalidOption() {
	_, err := blobber.NewClient(blobber.WithCAFile("ca.pem"), blobber.WithTransport(http.DefaultTransport))
	fmt.Println(errors.Is(err, blobber.ErrInvalidOption))
	fmt.Println(err)

	c, _ := blobber.NewClient(blobber.WithOCILayout())
	_, err = c.Push(context.Background(), "layout:v1", fstest.MapFS{}, blobber.WithCompression("bzip2"))
	fmt.Println(err)
	// Output:
	// true
	// WithTransport and WithCAFile contradict each other: the transport given has its own TLS settings, which WithCAFile would not change
	// push to layout:v1: WithCompression: compression must be gzip or zstd, not "bzip2"
}
