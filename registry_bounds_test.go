package blobber_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	digest "github.com/opencontainers/go-digest"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/target"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// pushBehindProxy pushes a tree of several segments through a counting proxy and
// returns the proxy and the reference through it.
func pushBehindProxy(t *testing.T, repo string) (*registrytest.Proxy, string) {
	t.Helper()
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ref := proxy.Host() + "/" + repo + ":v1"
	_, err := newClient(t).Push(context.Background(), ref, os.DirFS(faultTree(t)))
	testtree.Must(t, err)
	proxy.Reset()
	return proxy, ref
}

// otherManifest answers a manifest request with another manifest, its
// headers true to it, as a registry that serves the wrong content does.
func otherManifest() *registrytest.Fault {
	body := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}`)
	return &registrytest.Fault{Status: http.StatusOK, Body: body, Header: http.Header{
		"Content-Type":          {"application/vnd.oci.image.manifest.v1+json"},
		"Docker-Content-Digest": {digest.FromBytes(body).String()},
	}}
}

func isManifestGet(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/manifests/")
}

// Bytes that are not what was asked for are an integrity failure, whoever
// reads them: ErrDigestMismatch, which the CLI exits 5 for.
func TestRegistryAnswersOtherBytesIsDigestMismatch(t *testing.T) {
	ctx := context.Background()
	cases := map[string]registrytest.FaultFunc{
		"blob range answered with a wrong Content-Range": func(r *http.Request) *registrytest.Fault {
			if isBlobGet(r) && r.Header.Get("Range") != "" {
				return &registrytest.Fault{ShiftRange: 1}
			}
			return nil
		},
		"manifest that does not match its digest": func(r *http.Request) *registrytest.Fault {
			if isManifestGet(r) {
				return &registrytest.Fault{FlipFirstByte: true}
			}
			return nil
		},
		"another manifest, with its own length and Docker-Content-Digest": func(r *http.Request) *registrytest.Fault {
			if isManifestGet(r) && strings.Contains(r.URL.Path, "/manifests/sha256:") {
				return otherManifest()
			}
			return nil
		},
	}
	for name, fault := range cases {
		t.Run(name, func(t *testing.T) {
			proxy, ref := pushBehindProxy(t, "bounds/other-bytes")
			proxy.SetFaults(fault)
			_, err := newClient(t, blobber.WithRetries(-1)).Pull(ctx, ref, filepath.Join(t.TempDir(), "out"))
			if !errors.Is(err, blobber.ErrDigestMismatch) {
				t.Fatalf("pull: %v, want ErrDigestMismatch", err)
			}
			_, err = newClient(t, blobber.WithRetries(-1)).Open(ctx, ref)
			if !errors.Is(err, blobber.ErrDigestMismatch) {
				t.Fatalf("open: %v, want ErrDigestMismatch", err)
			}
		})
	}
}

// A registry whose listings always name a next page costs a bounded
// number of requests and fails with ErrLimitExceeded.
func TestEndlessTagPagesStop(t *testing.T) {
	ctx := context.Background()
	proxy, ref := pushBehindProxy(t, "bounds/tags")
	proxy.SetFaults(func(r *http.Request) *registrytest.Fault {
		if strings.HasSuffix(r.URL.Path, "/tags/list") {
			return &registrytest.Fault{EndlessPages: true}
		}
		return nil
	})
	_, err := newClient(t).Tags(ctx, strings.TrimSuffix(ref, ":v1"))
	if !errors.Is(err, blobber.ErrLimitExceeded) {
		t.Fatalf("tags: %v, want ErrLimitExceeded", err)
	}
	if got := proxy.Stats().Requests; got > target.MaxTagPages+5 {
		t.Fatalf("%d requests for at most %d pages", got, target.MaxTagPages)
	}
	t.Log(err)
}

// Pages of many long tags stop at the bound on tag bytes, before the
// bound on pages.
func TestTagBytesAreBounded(t *testing.T) {
	ctx := context.Background()
	proxy, ref := pushBehindProxy(t, "bounds/long-tags")
	proxy.SetFaults(func(r *http.Request) *registrytest.Fault {
		if strings.HasSuffix(r.URL.Path, "/tags/list") {
			return &registrytest.Fault{EndlessPages: true, PageEntries: 10_000}
		}
		return nil
	})
	_, err := newClient(t).Tags(ctx, strings.TrimSuffix(ref, ":v1"))
	if !errors.Is(err, blobber.ErrLimitExceeded) || !strings.Contains(err.Error(), "MiB") {
		t.Fatalf("tags: %v, want ErrLimitExceeded for the bytes", err)
	}
	// A page holds about 1 MB of names.
	if got := proxy.Stats().Requests; got > target.MaxTagBytes/1_000_000+5 {
		t.Fatalf("%d requests for %d MiB of tags", got, target.MaxTagBytes>>20)
	}
}

func TestEndlessReferrerPagesStop(t *testing.T) {
	ctx := context.Background()
	proxy, ref := pushBehindProxy(t, "bounds/signed")
	proxy.SetFaults(func(r *http.Request) *registrytest.Fault {
		if strings.Contains(r.URL.Path, "/referrers/sha256:") {
			return &registrytest.Fault{EndlessPages: true}
		}
		return nil
	})
	_, _, err := newClient(t).Signatures(ctx, ref)
	if !errors.Is(err, blobber.ErrLimitExceeded) {
		t.Fatalf("signatures: %v, want ErrLimitExceeded", err)
	}
	if got := proxy.Stats().Requests; got > target.MaxReferrerPages+5 {
		t.Fatalf("%d requests for at most %d pages", got, target.MaxReferrerPages)
	}
	t.Log(err)
}

// A registry that ignores Range costs one download of the layer per
// command, not one per range read.
func TestRangeIgnoredCostsOneDownload(t *testing.T) {
	ctx := context.Background()
	src := faultTree(t)
	proxy, ref := pushBehindProxy(t, "bounds/ignores-range")
	proxy.SetFaults(func(r *http.Request) *registrytest.Fault {
		if isBlobGet(r) {
			return &registrytest.Fault{IgnoreRange: true}
		}
		return nil
	})
	c := newClient(t)

	img, err := c.Open(ctx, ref)
	testtree.Must(t, err)
	var out strings.Builder
	_, err = img.WriteFileTo(&out, "small.txt")
	testtree.Must(t, err)
	layer := img.Stats().LayerSize
	testtree.Must(t, img.Close())
	if out.String() != "small\n" {
		t.Fatalf("cat gave %q", out.String())
	}
	if got := proxy.Stats().BlobBytes; got > layer+layer/4 {
		t.Fatalf("cat of a small file fetched %d bytes of a %d-byte layer", got, layer)
	}

	proxy.Reset()
	dst := filepath.Join(t.TempDir(), "out")
	_, err = c.Pull(ctx, ref, dst)
	testtree.Must(t, err)
	testtree.Equal(t, src, dst)
	if got := proxy.Stats().BlobBytes; got > layer+layer/4 {
		t.Fatalf("pull fetched %d bytes of a %d-byte layer", got, layer)
	}
}

// A listing stops paging once it has the signatures a read considers,
// however many pages the registry would go on naming.
func TestSignatureListingStopsAtTheLimit(t *testing.T) {
	ctx := context.Background()
	proxy, ref := pushBehindProxy(t, "bounds/many-signatures")
	var pages atomic.Int32
	proxy.SetFaults(func(r *http.Request) *registrytest.Fault {
		if strings.Contains(r.URL.Path, "/referrers/sha256:") {
			pages.Add(1)
			return &registrytest.Fault{EndlessPages: true, PageEntries: 10}
		}
		return nil
	})
	_, sigs, err := newClient(t).Signatures(ctx, ref)
	testtree.Must(t, err)
	if len(sigs) != 64 {
		t.Errorf("%d signatures listed, want the 64 considered", len(sigs))
	}
	if got := pages.Load(); got != 7 {
		t.Errorf("%d pages of referrers fetched for 64 signatures at 10 a page, want 7", got)
	}
}
