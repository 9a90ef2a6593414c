package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
)

// TestStatusTable: whatever request a registry's error status answers — an
// upload in one request, in chunks, or streamed while the layer is built, a
// ranged GET of a file's bytes, the manifest's GET — the error matches the
// same sentinel and the CLI exits with the same code, in one line without
// the registry's raw JSON. Retries are off, so that 429 and 5xx fail at once.
func TestStatusTable(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	type outcome struct {
		sentinel error // nil: none of the sentinels
		exit     int
	}
	statuses := map[int]outcome{
		401: {blobber.ErrUnauthorized, exitUnauthorized},
		403: {blobber.ErrUnauthorized, exitUnauthorized},
		404: {blobber.ErrNotFound, exitNotFound},
		// A registry that says the range does not fit: of a blob, it is
		// shorter than its descriptor; of an upload, its session holds
		// other bytes than were sent. Either way the bytes are not the
		// ones named.
		416: {blobber.ErrDigestMismatch, exitIntegrity},
		429: {nil, exitError},
		503: {nil, exitError},
	}
	sentinels := []error{blobber.ErrUnauthorized, blobber.ErrNotFound, blobber.ErrDigestMismatch,
		blobber.ErrNotEStargz, blobber.ErrLimitExceeded, blobber.ErrInvalidReference}

	uploads := func(r *http.Request) bool {
		return (r.Method == http.MethodPatch || r.Method == http.MethodPut) && strings.Contains(r.URL.Path, "/blobs/uploads/")
	}
	rangedGets := func(r *http.Request) bool {
		return r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/sha256:") && r.Header.Get("Range") != ""
	}
	manifestGets := func(r *http.Request) bool {
		return r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/manifests/")
	}

	type path struct {
		name string
		// run does the operation through proxy, whose faults are set by
		// fault at the right moment.
		run func(t *testing.T, proxy *registrytest.Proxy, fault func(match func(*http.Request) bool)) error
	}
	// pushOver pushes a new tree to a tag that exists: the layer is built
	// first, then uploaded (no upload while building).
	pushOver := func(opts ...blobber.PushOption) func(*testing.T, *registrytest.Proxy, func(func(*http.Request) bool)) error {
		return func(t *testing.T, proxy *registrytest.Proxy, fault func(func(*http.Request) bool)) error {
			ref := proxy.Host() + "/table/over:v1"
			if _, err := tableClient(t).Push(ctx, ref, tableTree(t, "first")); err != nil {
				t.Fatal(err)
			}
			fault(uploads)
			_, err := tableClient(t).Push(ctx, ref, tableTree(t, "second"), opts...)
			return err
		}
	}
	paths := []path{
		{"monolithic upload", pushOver()},
		{"chunked upload", pushOver(blobber.WithUploadChunkSize(64 << 10))},
		{"streamed upload", func(t *testing.T, proxy *registrytest.Proxy, fault func(func(*http.Request) bool)) error {
			// A new tag: the layer is uploaded while it is built. A
			// registry that refuses the streamed chunks gets the layer in
			// one request, which it refuses alike.
			fault(uploads)
			_, err := tableClient(t).Push(ctx, proxy.Host()+"/table/new:v1", tableTree(t, "new"))
			return err
		}},
		{"ranged GET (cat)", func(t *testing.T, proxy *registrytest.Proxy, fault func(func(*http.Request) bool)) error {
			ref := proxy.Host() + "/table/cat:v1"
			c := tableClient(t)
			if _, err := c.Push(ctx, ref, tableTree(t, "cat")); err != nil {
				t.Fatal(err)
			}
			img, err := c.Open(ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			fault(rangedGets)
			_, err = fs.ReadFile(img, "big.bin")
			return err
		}},
		{"manifest GET", func(t *testing.T, proxy *registrytest.Proxy, fault func(func(*http.Request) bool)) error {
			ref := proxy.Host() + "/table/manifest:v1"
			if _, err := tableClient(t).Push(ctx, ref, tableTree(t, "manifest")); err != nil {
				t.Fatal(err)
			}
			fault(manifestGets)
			img, err := tableClient(t).Open(ctx, ref)
			if err == nil {
				img.Close()
			}
			return err
		}},
	}
	for _, p := range paths {
		for status, want := range statuses {
			t.Run(fmt.Sprintf("%s/%d", p.name, status), func(t *testing.T) {
				proxy := reg.CountingProxy(t)
				body := fmt.Appendf(nil, `{"errors":[{"code":"DENIED","message":"injected %d"}]}`, status)
				err := p.run(t, proxy, func(match func(*http.Request) bool) {
					proxy.SetFaults(func(r *http.Request) *registrytest.Fault {
						if match(r) {
							return &registrytest.Fault{Status: status, Body: body}
						}
						return nil
					})
				})
				if err == nil {
					t.Fatal("no error")
				}
				for _, s := range sentinels {
					if got := errors.Is(err, s); got != (s == want.sentinel) {
						t.Errorf("errors.Is(err, %v) = %v; err: %v", s, got, err)
					}
				}
				var out bytes.Buffer
				if code := reportError(&out, err); code != want.exit {
					t.Errorf("exit %d, want %d: %s", code, want.exit, out.String())
				}
				if strings.Contains(out.String(), "{") {
					t.Errorf("the registry's raw JSON reached the user: %s", out.String())
				}
			})
		}
	}
}

// tableClient talks to the registry without retries.
func tableClient(t *testing.T) *blobber.Client {
	t.Helper()
	c, err := blobber.NewClient(blobber.WithRetries(-1))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// tableTree is a tree of a few hundred KiB of incompressible bytes (more
// than the end of the layer that Open reads) whose content depends on seed.
func tableTree(t *testing.T, seed string) fs.FS {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(len(seed)), uint64(seed[0])))
	big := make([]byte, 300<<10)
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	if err := os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "small.txt"), []byte(seed), 0o644); err != nil {
		t.Fatal(err)
	}
	return os.DirFS(dir)
}
