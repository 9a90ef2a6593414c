package blobber_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// fetchManifest reads the manifest ref names back through oras-go, as
// another tool would.
func fetchManifest(t *testing.T, host, repo, ref string) (ocispec.Descriptor, ocispec.Manifest) {
	t.Helper()
	r, err := remote.NewRepository(host + "/" + repo)
	testtree.Must(t, err)
	r.PlainHTTP = true
	desc, raw, err := oras.FetchBytes(context.Background(), r, ref, oras.DefaultFetchBytesOptions)
	testtree.Must(t, err)
	var m ocispec.Manifest
	testtree.Must(t, json.Unmarshal(raw, &m))
	return desc, m
}

// TestPushWritesAskedMetadata: the manifest holds exactly the annotations,
// config annotations and artifactType asked for, every tag given names it,
// and Blobber still reads it.
func TestPushWritesAskedMetadata(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	src := t.TempDir()
	testtree.Write(t, src, map[string]string{"a.txt": "alpha"})
	annFile := filepath.Join(t.TempDir(), "annotations.json")
	testtree.Must(t, os.WriteFile(annFile, []byte(`{"$manifest":{"com.example.team":"web"},"$config":{"com.example.config":"c"}}`), 0o644))
	created := time.Date(2026, 12, 6, 5, 0, 0, 0, time.FixedZone("CET", 3600))

	c := newClient(t)
	desc, err := c.Push(ctx, reg.Host()+"/meta/site:v1,latest,stable", os.DirFS(src),
		blobber.WithAnnotation("com.example.key", "value=with=equals"),
		blobber.WithAnnotationFile(annFile),
		blobber.WithSource("https://example.com/team/site"),
		blobber.WithRevision("0123abcd"),
		blobber.WithCreated(created),
		blobber.WithArtifactType("application/vnd.example.site.v1"),
	)
	testtree.Must(t, err)

	got, m := fetchManifest(t, reg.Host(), "meta/site", "v1")
	if got.Digest != desc.Digest {
		t.Fatalf("v1 is %s, Push returned %s", got.Digest, desc.Digest)
	}
	want := map[string]string{
		"com.example.key":          "value=with=equals",
		"com.example.team":         "web",
		ocispec.AnnotationSource:   "https://example.com/team/site",
		ocispec.AnnotationRevision: "0123abcd",
		ocispec.AnnotationCreated:  "2026-12-06T04:00:00Z",
	}
	if !reflect.DeepEqual(m.Annotations, want) {
		t.Errorf("manifest annotations %v, want %v", m.Annotations, want)
	}
	if want := map[string]string{"com.example.config": "c"}; !reflect.DeepEqual(m.Config.Annotations, want) {
		t.Errorf("config annotations %v, want %v", m.Config.Annotations, want)
	}
	if m.ArtifactType != "application/vnd.example.site.v1" {
		t.Errorf("artifactType %q", m.ArtifactType)
	}
	for _, tag := range []string{"latest", "stable"} {
		if d, _ := fetchManifest(t, reg.Host(), "meta/site", tag); d.Digest != desc.Digest {
			t.Errorf("%s is %s, want %s", tag, d.Digest, desc.Digest)
		}
	}
	img, err := c.Open(ctx, reg.Host()+"/meta/site:stable")
	testtree.Must(t, err)
	defer img.Close()
	if data, err := img.ReadFile("a.txt"); err != nil || string(data) != "alpha" {
		t.Fatalf("read back %q, %v", data, err)
	}
}

// TestPushWithoutMetadataIsReproducible: without WithCreated a push
// records no time, so pushing the same tree again (with or without a
// cache, whose record of the first push must not be reused for a push
// that asks for other metadata) gives the same digest, and nothing but
// the layer's own annotations.
func TestPushWithoutMetadataIsReproducible(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	src := t.TempDir()
	testtree.Write(t, src, map[string]string{"a.txt": "alpha", "d/b.txt": "beta"})
	tree := func() *blobber.Tree {
		tr, err := blobber.OpenTree(src)
		testtree.Must(t, err)
		t.Cleanup(func() { tr.Close() })
		return tr
	}
	first, err := newClient(t).Push(ctx, reg.Host()+"/meta/repro:a", tree())
	testtree.Must(t, err)
	cached := newClient(t, blobber.WithCache(t.TempDir()))
	for i, ref := range []string{"b", "c"} {
		d, err := cached.Push(ctx, reg.Host()+"/meta/repro:"+ref, tree())
		testtree.Must(t, err)
		if d.Digest != first.Digest {
			t.Fatalf("push %d gave %s, the first %s", i+2, d.Digest, first.Digest)
		}
	}
	if _, m := fetchManifest(t, reg.Host(), "meta/repro", "a"); m.Annotations != nil || m.ArtifactType != "" {
		t.Errorf("manifest has annotations %v, artifactType %q; want none", m.Annotations, m.ArtifactType)
	}
	d, err := cached.Push(ctx, reg.Host()+"/meta/repro:d", tree(), blobber.WithRevision("r2"))
	testtree.Must(t, err)
	if _, m := fetchManifest(t, reg.Host(), "meta/repro", "d"); d.Digest == first.Digest || m.Annotations[ocispec.AnnotationRevision] != "r2" {
		t.Errorf("the cache's record of the first push was reused for one with a revision: %s, %v", d.Digest, m.Annotations)
	}
}

// TestPushRefusesBadMetadataBeforeAnything: an annotation, time, URL, media
// type, annotation file or tag list that cannot be fails the push before
// the registry is asked anything.
func TestPushRefusesBadMetadataBeforeAnything(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	src := t.TempDir()
	testtree.Write(t, src, map[string]string{"a.txt": "alpha"})
	files := t.TempDir()
	writeFile := func(name, content string) string {
		p := filepath.Join(files, name)
		testtree.Must(t, os.WriteFile(p, []byte(content), 0o644))
		return p
	}
	ref := proxy.Host() + "/meta/bad:v1"
	for name, c := range map[string]struct {
		ref  string
		opts []blobber.PushOption
		sent error
	}{
		"empty key":         {opts: []blobber.PushOption{blobber.WithAnnotation("", "v")}},
		"key with space":    {opts: []blobber.PushOption{blobber.WithAnnotation("a key", "v")}},
		"value not UTF-8":   {opts: []blobber.PushOption{blobber.WithAnnotation("k", "\xff")}},
		"created not time":  {opts: []blobber.PushOption{blobber.WithAnnotation(ocispec.AnnotationCreated, "yesterday")}},
		"key set twice":     {opts: []blobber.PushOption{blobber.WithAnnotation("k", "1"), blobber.WithAnnotations(map[string]string{"k": "2"})}},
		"revision twice":    {opts: []blobber.PushOption{blobber.WithRevision("a"), blobber.WithAnnotation(ocispec.AnnotationRevision, "b")}},
		"zero created":      {opts: []blobber.PushOption{blobber.WithCreated(time.Time{})}},
		"relative source":   {opts: []blobber.PushOption{blobber.WithSource("team/site")}},
		"empty revision":    {opts: []blobber.PushOption{blobber.WithRevision("")}},
		"artifact type":     {opts: []blobber.PushOption{blobber.WithArtifactType("not a type")}},
		"artifact params":   {opts: []blobber.PushOption{blobber.WithArtifactType("application/x;v=1")}},
		"file missing":      {opts: []blobber.PushOption{blobber.WithAnnotationFile(filepath.Join(files, "none.json"))}},
		"file not JSON":     {opts: []blobber.PushOption{blobber.WithAnnotationFile(writeFile("bad.json", "{"))}},
		"file layer key":    {opts: []blobber.PushOption{blobber.WithAnnotationFile(writeFile("layer.json", `{"site":{"k":"v"}}`))}},
		"file bad created":  {opts: []blobber.PushOption{blobber.WithAnnotationFile(writeFile("created.json", `{"$manifest":{"org.opencontainers.image.created":"now"}}`))}},
		"tag list with bad": {ref: proxy.Host() + "/meta/bad:v1,-bad", sent: blobber.ErrInvalidReference},
	} {
		t.Run(name, func(t *testing.T) {
			proxy.Reset()
			r := ref
			if c.ref != "" {
				r = c.ref
			}
			want := c.sent
			if want == nil {
				want = blobber.ErrInvalidOption
			}
			_, err := newClient(t).Push(context.Background(), r, os.DirFS(src), c.opts...)
			if !errors.Is(err, want) {
				t.Fatalf("Push = %v, want %v", err, want)
			}
			if n := proxy.Stats().Requests; n != 0 {
				t.Errorf("%d requests to the registry, want none", n)
			}
			if strings.Contains(err.Error(), "%!") {
				t.Errorf("malformed message %q", err)
			}
		})
	}
}
