package blobber_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
)

// An image index is bounded like a manifest: one the registry declares
// larger than a manifest may be is refused before its bytes are fetched,
// and so is an entry that declares such a size.
func TestIndexIsBoundedLikeAManifest(t *testing.T) {
	ctx := context.Background()
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ref := proxy.Host() + "/plat/bounded:v1"
	pushed, err := sigClient(t).Push(ctx, ref, platformTree, blobber.WithPlatforms("linux/amd64", "linux/arm64"))
	if err != nil {
		t.Fatal(err)
	}

	// The tag resolves to an index of 5 MiB.
	requests := watchRequests(proxy)
	proxy.SetFaults(func(r *http.Request) *registrytest.Fault {
		if r.Method == http.MethodHead && strings.Contains(r.URL.Path, "/manifests/") {
			return &registrytest.Fault{Status: http.StatusOK, Header: http.Header{
				"Content-Type":          {ocispec.MediaTypeImageIndex},
				"Content-Length":        {strconv.Itoa(5 << 20)},
				"Docker-Content-Digest": {digest.FromString("big").String()},
			}}
		}
		return nil
	})
	if _, err := sigClient(t).Open(ctx, ref); !errors.Is(err, blobber.ErrLimitExceeded) {
		t.Errorf("an index of 5 MiB: %v, want ErrLimitExceeded", err)
	}
	for _, r := range requests() {
		if strings.HasPrefix(r, "GET ") {
			t.Errorf("fetched %s", r)
		}
	}
	proxy.SetFaults(nil)

	// An entry that declares 5 MiB (the manifest it names is a real one).
	repo := repository(t, reg.Host(), "plat/bounded")
	var index ocispec.Index
	fetchJSON(t, repo, pushed, &index)
	entry := index.Manifests[0]
	entry.Size = 5 << 20
	raw, err := json.Marshal(ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{entry},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := oras.TagBytes(ctx, repo, ocispec.MediaTypeImageIndex, raw, "big-entry"); err != nil {
		t.Fatal(err)
	}
	if _, err := sigClient(t).Open(ctx, reg.Host()+"/plat/bounded:big-entry"); !errors.Is(err, blobber.ErrLimitExceeded) {
		t.Errorf("an entry of 5 MiB: %v, want ErrLimitExceeded", err)
	}
}
