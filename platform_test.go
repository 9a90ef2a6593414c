package blobber_test

import (
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"testing"
	"testing/fstest"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
)

var platformTree = fstest.MapFS{"dir/a.txt": {Data: []byte("the same files on every platform\n"), Mode: 0o644}}

func fetchJSON(t *testing.T, repo *remote.Repository, desc ocispec.Descriptor, v any) {
	t.Helper()
	raw, err := content.FetchAll(context.Background(), repo, desc)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatal(err)
	}
}

// configPlatform is the platform the config of the manifest desc names.
func configPlatform(t *testing.T, repo *remote.Repository, desc ocispec.Descriptor) string {
	t.Helper()
	var m ocispec.Manifest
	fetchJSON(t, repo, desc, &m)
	var cfg ocispec.Image
	fetchJSON(t, repo, m.Config, &cfg)
	return blobber.FormatPlatform(cfg.Platform)
}

// The image spec requires os and architecture: a push names the default
// platform, the same on every machine, or the one asked for.
func TestPushConfigNamesPlatform(t *testing.T) {
	ctx := context.Background()
	reg := registrytest.Start(t)
	c := sigClient(t)
	repo := repository(t, reg.Host(), "plat/one")
	for _, tc := range []struct {
		opts []blobber.PushOption
		want string
	}{
		{nil, "linux/amd64"},
		{[]blobber.PushOption{blobber.WithPlatforms("linux/arm64/v8")}, "linux/arm64/v8"},
		{[]blobber.PushOption{blobber.WithPlatforms("windows/amd64")}, "windows/amd64"},
	} {
		desc, err := c.Push(ctx, reg.Host()+"/plat/one:v1", platformTree, tc.opts...)
		if err != nil {
			t.Fatal(err)
		}
		if desc.MediaType != ocispec.MediaTypeImageManifest {
			t.Fatalf("one platform pushed a %s", desc.MediaType)
		}
		if got := configPlatform(t, repo, desc); got != tc.want {
			t.Errorf("config names %q, want %q", got, tc.want)
		}
		in, err := c.Inspect(ctx, reg.Host()+"/plat/one:v1")
		if err != nil {
			t.Fatal(err)
		}
		if in.Platform != tc.want || in.Index.Digest != "" || in.Platforms != nil {
			t.Errorf("inspect: platform %q, index %q, platforms %v; want %q and no index", in.Platform, in.Index.Digest, in.Platforms, tc.want)
		}
	}
}

// Several platforms make an index whose manifests share the layer and
// differ only in their config; readers take the entry asked for, else the
// running platform's, else the first.
func TestPushSeveralPlatformsWritesIndex(t *testing.T) {
	ctx := context.Background()
	reg := registrytest.Start(t)
	ref := reg.Host() + "/plat/many:v1"
	platforms := []string{"linux/amd64", "linux/arm64", "linux/arm/v7"}
	desc, err := sigClient(t).Push(ctx, ref, platformTree, blobber.WithPlatforms(platforms...))
	if err != nil {
		t.Fatal(err)
	}
	if desc.MediaType != ocispec.MediaTypeImageIndex {
		t.Fatalf("the tag names a %s, want an index", desc.MediaType)
	}
	repo := repository(t, reg.Host(), "plat/many")
	var index ocispec.Index
	fetchJSON(t, repo, desc, &index)
	if len(index.Manifests) != len(platforms) {
		t.Fatalf("index has %d manifests", len(index.Manifests))
	}
	entries := map[string]ocispec.Descriptor{}
	var layers, configs []string
	for i, m := range index.Manifests {
		got := blobber.FormatPlatform(*m.Platform)
		if got != platforms[i] || configPlatform(t, repo, m) != got {
			t.Errorf("entry %d: platform %s, config %s, want %s", i, got, configPlatform(t, repo, m), platforms[i])
		}
		entries[got] = m
		var man ocispec.Manifest
		fetchJSON(t, repo, m, &man)
		layers = append(layers, man.Layers[0].Digest.String())
		configs = append(configs, man.Config.Digest.String())
	}
	if layers[0] != layers[1] || layers[1] != layers[2] || configs[0] == configs[1] || configs[1] == configs[2] {
		t.Errorf("layers %v (want one), configs %v (want three)", layers, configs)
	}

	open := func(opts ...blobber.Option) (ocispec.Descriptor, error) {
		img, err := sigClient(t, opts...).Open(ctx, ref)
		if err != nil {
			return ocispec.Descriptor{}, err
		}
		defer img.Close()
		if data, err := img.ReadFile("dir/a.txt"); err != nil || string(data) != string(platformTree["dir/a.txt"].Data) {
			t.Errorf("read %q, %v", data, err)
		}
		return img.Descriptor(), nil
	}
	got, err := open(blobber.WithPlatform("linux/arm/v7"))
	if err != nil || got.Digest != entries["linux/arm/v7"].Digest {
		t.Errorf("WithPlatform(linux/arm/v7) read %s, %v; want %s", got.Digest, err, entries["linux/arm/v7"].Digest)
	}
	got, err = open(blobber.WithPlatform("windows/amd64", "linux/arm64"))
	if err != nil || got.Digest != entries["linux/arm64"].Digest {
		t.Errorf("WithPlatform(windows/amd64, linux/arm64) read %s, %v; want the arm64 entry", got.Digest, err)
	}
	want := index.Manifests[0].Digest
	if e, ok := entries[runtime.GOOS+"/"+runtime.GOARCH]; ok {
		want = e.Digest
	}
	if got, err = open(); err != nil || got.Digest != want {
		t.Errorf("by default read %s, %v; want %s", got.Digest, err, want)
	}
	if _, err := open(blobber.WithPlatform("windows/amd64")); !errors.Is(err, blobber.ErrNotFound) {
		t.Errorf("a platform the index lacks: %v, want ErrNotFound", err)
	}
	dir := t.TempDir()
	if _, err := sigClient(t, blobber.WithPlatform("linux/arm64")).Pull(ctx, ref, dir); err != nil {
		t.Errorf("pull of an index: %v", err)
	}

	in, err := sigClient(t, blobber.WithPlatform("linux/arm64")).Inspect(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if in.Index.Digest != desc.Digest || in.Manifest.Digest != entries["linux/arm64"].Digest || in.Platform != "linux/arm64" ||
		len(in.Platforms) != 3 || in.Platforms[2] != "linux/arm/v7" || in.Files != 1 {
		t.Errorf("inspect: index %s, manifest %s, platform %q, platforms %v, files %d", in.Index.Digest, in.Manifest.Digest, in.Platform, in.Platforms, in.Files)
	}
}

// A platform that is not os/arch[/variant] fails the option, before any
// request.
func TestInvalidPlatformIsInvalidOption(t *testing.T) {
	ctx := context.Background()
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	requests := watchRequests(proxy)
	for _, list := range [][]string{{"linux"}, {"Linux/amd64"}, {"linux/amd64/v8/x"}, {"linux//amd64"}, {"linux/amd64", "linux/amd64"}, {}} {
		_, err := sigClient(t).Push(ctx, proxy.Host()+"/plat/bad:v1", platformTree, blobber.WithPlatforms(list...))
		if !errors.Is(err, blobber.ErrInvalidOption) {
			t.Errorf("push with %q: %v, want ErrInvalidOption", list, err)
		}
		if _, err := blobber.NewClient(blobber.WithPlatform(list...)); !errors.Is(err, blobber.ErrInvalidOption) {
			t.Errorf("WithPlatform(%q): %v, want ErrInvalidOption", list, err)
		}
	}
	if seen := requests(); len(seen) != 0 {
		t.Errorf("requests before the option was refused: %v", seen)
	}
}

// What is signed for an index push is the index, as cosign signs one; a
// verifier checks it before reading the entry, whichever is read.
func TestSignedIndexPushVerifies(t *testing.T) {
	ctx := context.Background()
	reg := registrytest.Start(t)
	key := newP256(t)
	ref := reg.Host() + "/plat/signed:v1"
	desc, err := sigClient(t, blobber.WithSigner(keySigner(t, key))).Push(ctx, ref, platformTree, blobber.WithPlatforms("linux/amd64", "linux/arm64"))
	if err != nil {
		t.Fatal(err)
	}
	repo := repository(t, reg.Host(), "plat/signed")
	var found []ocispec.Descriptor
	err = repo.Referrers(ctx, desc, blobber.BundleMediaType, func(r []ocispec.Descriptor) error {
		found = append(found, r...)
		return nil
	})
	if err != nil || len(found) != 1 {
		t.Fatalf("signatures of the index: %v, %v", found, err)
	}
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		img, err := sigClient(t, blobber.WithVerifier(keyVerifier(t, key)), blobber.WithPlatform(p)).Open(ctx, ref)
		if err != nil {
			t.Fatalf("open %s with the signer's key: %v", p, err)
		}
		img.Close()
	}
	if _, err := sigClient(t, blobber.WithVerifier(keyVerifier(t, newP256(t)))).Open(ctx, ref); !errors.Is(err, blobber.ErrSignature) {
		t.Errorf("open with another key: %v, want ErrSignature", err)
	}
	if _, _, err := sigClient(t, blobber.WithVerifier(keyVerifier(t, key))).Verify(ctx, ref); err != nil {
		t.Errorf("verify: %v", err)
	}
	// An unsigned index is refused by a verifier.
	unsigned := reg.Host() + "/plat/unsigned:v1"
	if _, err := sigClient(t).Push(ctx, unsigned, platformTree, blobber.WithPlatforms("linux/amd64", "linux/arm64")); err != nil {
		t.Fatal(err)
	}
	if _, err := sigClient(t, blobber.WithVerifier(keyVerifier(t, key))).Open(ctx, unsigned); !errors.Is(err, blobber.ErrSignature) {
		t.Errorf("open of an unsigned index: %v, want ErrSignature", err)
	}
}
