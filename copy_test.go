package blobber_test

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/registry/remote/auth"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
)

// copyFixture is a source registry holding a pushed artifact and an empty
// destination registry, each behind a counting proxy.
type copyFixture struct {
	src, dst *registrytest.Proxy
	ref      string // the source artifact, by tag
	pushed   ocispec.Descriptor
}

func newCopyFixture(t *testing.T, opts ...blobber.Option) copyFixture {
	t.Helper()
	f := copyFixture{src: registrytest.Start(t).CountingProxy(t), dst: registrytest.Start(t).CountingProxy(t)}
	f.ref = f.src.Host() + "/team/files:v1"
	desc, err := sigClient(t, opts...).Push(context.Background(), f.ref, signedTree)
	if err != nil {
		t.Fatal(err)
	}
	f.pushed = desc
	f.src.Reset()
	return f
}

func wantContent(t *testing.T, c *blobber.Client, ref string) {
	t.Helper()
	img, err := c.Open(context.Background(), ref)
	if err != nil {
		t.Fatalf("open %s: %v", ref, err)
	}
	defer img.Close()
	got, err := fs.ReadFile(img, "a.txt")
	if err != nil || string(got) != string(signedTree["a.txt"].Data) {
		t.Fatalf("a.txt at %s: %q, %v", ref, got, err)
	}
}

func TestCopyBetweenRegistriesTransfersOnlyWhatIsMissing(t *testing.T) {
	ctx := context.Background()
	f := newCopyFixture(t)
	var mu sync.Mutex
	var phases []string
	c := sigClient(t, blobber.WithProgress(func(phase string, done, total int64) {
		mu.Lock()
		defer mu.Unlock()
		if !slices.Contains(phases, phase) {
			phases = append(phases, phase)
		}
	}))
	dst := f.dst.Host() + "/mirror/files"
	res, err := c.Copy(ctx, f.ref, dst)
	if err != nil {
		t.Fatal(err)
	}
	if res.Descriptor.Digest != f.pushed.Digest || !slices.Equal(res.Tags, []string{"v1"}) {
		t.Fatalf("copied %s tagged %v, pushed %s", res.Descriptor.Digest, res.Tags, f.pushed.Digest)
	}
	// Manifest, config and layer.
	if res.Transferred.Count != 3 || res.Skipped.Count != 0 || res.Mounted.Count != 0 {
		t.Errorf("first copy: %+v", res)
	}
	first := f.dst.Stats()
	if first.UploadBytes == 0 || first.UploadBytes > res.Transferred.Bytes {
		t.Errorf("first copy uploaded %d bytes, reports %d", first.UploadBytes, res.Transferred.Bytes)
	}
	if !slices.Equal(phases, []string{"transfer"}) {
		t.Errorf("progress phases %v", phases)
	}
	wantContent(t, c, dst+":v1")

	f.dst.Reset()
	again, err := c.Copy(ctx, f.ref, dst)
	if err != nil {
		t.Fatal(err)
	}
	if s := f.dst.Stats(); s.UploadBytes != 0 || s.UploadRequests != 0 {
		t.Errorf("second copy uploaded %d bytes in %d requests", s.UploadBytes, s.UploadRequests)
	}
	if again.Transferred.Count != 0 || again.Skipped.Count != 1 || again.Descriptor.Digest != f.pushed.Digest {
		t.Errorf("second copy: %+v", again)
	}
}

func TestCopySignedArtifactWithReferrersStillVerifies(t *testing.T) {
	ctx := context.Background()
	key := newP256(t)
	f := newCopyFixture(t, blobber.WithSigner(keySigner(t, key)))
	c := sigClient(t)
	verifier := sigClient(t, blobber.WithVerifier(keyVerifier(t, key)))

	// Without referrers, the copy is not signed at the destination.
	bare := f.dst.Host() + "/bare/files:v1"
	if _, err := c.Copy(ctx, f.ref, bare); err != nil {
		t.Fatal(err)
	}
	if _, err := verifier.Open(ctx, bare); !errors.Is(err, blobber.ErrUnsigned) {
		t.Fatalf("open of a copy without its signature: %v, want ErrUnsigned", err)
	}

	signed := f.dst.Host() + "/signed/files:v1"
	res, err := c.Copy(ctx, f.ref, signed, blobber.WithReferrers())
	if err != nil {
		t.Fatal(err)
	}
	if res.Referrers != 1 {
		t.Errorf("copied %d referrers, want the signature", res.Referrers)
	}
	wantContent(t, verifier, signed)

	// And on through an OCI layout, back to a registry.
	layout := filepath.Join(t.TempDir(), "layout")
	if _, err := c.Copy(ctx, signed, layout+":v1", blobber.WithReferrers(), blobber.WithCopyToOCILayout()); err != nil {
		t.Fatal(err)
	}
	layoutVerifier := sigClient(t, blobber.WithOCILayout(), blobber.WithVerifier(keyVerifier(t, key)))
	wantContent(t, layoutVerifier, layout+":v1")
	back := f.dst.Host() + "/back/files:v2"
	res, err = c.Copy(ctx, layout+":v1", back, blobber.WithReferrers(), blobber.WithCopyFromOCILayout())
	if err != nil {
		t.Fatal(err)
	}
	if res.Descriptor.Digest != f.pushed.Digest {
		t.Fatalf("round trip through a layout gave %s, pushed %s", res.Descriptor.Digest, f.pushed.Digest)
	}
	wantContent(t, verifier, back)
}

func TestCopyWithinOneRegistryMounts(t *testing.T) {
	ctx := context.Background()
	f := newCopyFixture(t)
	var mu sync.Mutex
	var uploads []string
	f.src.SetFaults(func(r *http.Request) *registrytest.Fault {
		if strings.Contains(r.URL.Path, "/blobs/uploads/") && (r.Method == http.MethodPut || r.Method == http.MethodPatch) {
			mu.Lock()
			uploads = append(uploads, r.Method+" "+r.URL.Path)
			mu.Unlock()
		}
		return nil
	})
	res, err := sigClient(t).Copy(ctx, f.ref, f.src.Host()+"/other/files:v1")
	if err != nil {
		t.Fatal(err)
	}
	if len(uploads) != 0 {
		t.Errorf("blob uploads within one registry: %v", uploads)
	}
	// Config and layer mounted; the manifest is put.
	if s := f.src.Stats(); s.Mounts != 2 || res.Mounted.Count != 2 || res.Transferred.Count != 1 {
		t.Errorf("mounts %d, result %+v", s.Mounts, res)
	}
	wantContent(t, sigClient(t), f.src.Host()+"/other/files:v1")
}

func TestCopySeveralTags(t *testing.T) {
	ctx := context.Background()
	f := newCopyFixture(t)
	c := sigClient(t)
	dst := f.dst.Host() + "/tags/files"
	res, err := c.Copy(ctx, f.ref+"@"+f.pushed.Digest.String(), dst+":a,b", blobber.WithCopyTags("c", "a"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Tags, []string{"a", "b", "c"}) {
		t.Errorf("tags %v", res.Tags)
	}
	tags, err := c.Tags(ctx, dst)
	if err != nil || !slices.Equal(tags, []string{"a", "b", "c"}) {
		t.Fatalf("destination tags %v, %v", tags, err)
	}
	// By digest to a repository without a tag: no tag.
	res, err = c.Copy(ctx, f.ref+"@"+f.pushed.Digest.String(), f.dst.Host()+"/untagged/files")
	if err != nil || len(res.Tags) != 0 {
		t.Fatalf("copy by digest: %+v, %v", res, err)
	}
	wantContent(t, c, f.dst.Host()+"/untagged/files@"+f.pushed.Digest.String())
	// A destination digest that is not the source's.
	other := "sha256:" + strings.Repeat("0", 64)
	if _, err := c.Copy(ctx, f.ref, dst+"@"+other); !errors.Is(err, blobber.ErrInvalidReference) {
		t.Fatalf("copy to another digest: %v, want ErrInvalidReference", err)
	}
}

func TestCopyRefusesCorruptSourceBlob(t *testing.T) {
	ctx := context.Background()
	f := newCopyFixture(t)
	f.src.SetFaults(func(r *http.Request) *registrytest.Fault {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/sha256:") {
			return &registrytest.Fault{FlipFirstByte: true}
		}
		return nil
	})
	c := sigClient(t, blobber.WithRetries(-1))
	for name, dst := range map[string]string{
		"registry": f.dst.Host() + "/corrupt/files:v1",
		"layout":   filepath.Join(t.TempDir(), "layout") + ":v1",
	} {
		t.Run(name, func(t *testing.T) {
			var opts []blobber.CopyOption
			if name == "layout" {
				opts = append(opts, blobber.WithCopyToOCILayout())
			}
			_, err := c.Copy(ctx, f.ref, dst, opts...)
			if !errors.Is(err, blobber.ErrDigestMismatch) {
				t.Fatalf("copy of a corrupt blob: %v, want ErrDigestMismatch", err)
			}
			if !strings.Contains(err.Error(), "does not match its digest") {
				t.Errorf("the copy did not find the mismatch itself: %v", err)
			}
			reader := c
			if name == "layout" {
				reader = sigClient(t, blobber.WithOCILayout())
			}
			if _, err := reader.Inspect(ctx, dst); !errors.Is(err, blobber.ErrNotFound) {
				t.Fatalf("the destination after a failed copy: %v, want ErrNotFound", err)
			}
		})
	}
}

func TestCopyImageIndex(t *testing.T) {
	ctx := context.Background()
	key := newP256(t)
	f := newCopyFixture(t, blobber.WithSigner(keySigner(t, key)))
	// An index of two platforms sharing the artifact's manifest, as a
	// runtime push may write.
	repo := repository(t, f.src.Host(), "team/files")
	platformA, platformB := f.pushed, f.pushed
	platformA.Platform = &ocispec.Platform{OS: "linux", Architecture: "amd64"}
	platformB.Platform = &ocispec.Platform{OS: "linux", Architecture: "arm64"}
	idx, err := json.Marshal(ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{platformA, platformB},
	})
	if err != nil {
		t.Fatal(err)
	}
	root, err := oras.TagBytes(ctx, repo, ocispec.MediaTypeImageIndex, idx, "multi")
	if err != nil {
		t.Fatal(err)
	}
	dst := f.dst.Host() + "/multi/files"
	res, err := sigClient(t).Copy(ctx, f.src.Host()+"/team/files:multi", dst, blobber.WithReferrers())
	if err != nil {
		t.Fatal(err)
	}
	if res.Descriptor.Digest != root.Digest || res.Descriptor.MediaType != ocispec.MediaTypeImageIndex {
		t.Fatalf("copied %+v, want the index %s", res.Descriptor, root.Digest)
	}
	// The platform manifest arrived with its signature.
	wantContent(t, sigClient(t, blobber.WithVerifier(keyVerifier(t, key))), dst+"@"+f.pushed.Digest.String())
}

func TestCopyResolvesEachSidesCredentials(t *testing.T) {
	ctx := context.Background()
	src := registrytest.Start(t, registrytest.WithBasicAuth(map[string]string{"alice": "pw-src"}))
	dst := registrytest.Start(t, registrytest.WithBasicAuth(map[string]string{"bob": "pw-dst"}))
	creds := map[string]auth.Credential{
		src.Host(): {Username: "alice", Password: "pw-src"},
		dst.Host(): {Username: "bob", Password: "pw-dst"},
	}
	byHost := blobber.WithCredentials(func(_ context.Context, host string) (auth.Credential, error) {
		return creds[host], nil
	})
	c := sigClient(t, byHost)
	ref := src.Host() + "/private/files:v1"
	desc, err := c.Push(ctx, ref, signedTree)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Copy(ctx, ref, dst.Host()+"/private/files")
	if err != nil || res.Descriptor.Digest != desc.Digest {
		t.Fatalf("copy: %+v, %v", res, err)
	}
	wantContent(t, c, dst.Host()+"/private/files:v1")
	// The destination's credentials are asked for as any reference's.
	onlySource := blobber.WithCredentials(auth.StaticCredential(src.Host(), creds[src.Host()]))
	if _, err := sigClient(t, onlySource).Copy(ctx, ref, dst.Host()+"/other/files"); !errors.Is(err, blobber.ErrUnauthorized) {
		t.Fatalf("copy without the destination's credentials: %v, want ErrUnauthorized", err)
	}
}
