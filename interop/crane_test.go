package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/stargz-snapshotter/estargz"
	"github.com/containerd/stargz-snapshotter/estargz/zstdchunked"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// craneVersion is the go-containerregistry whose `crane validate` must
// accept Blobber's artifacts, split or not.
const craneVersion = "v0.21.7"

// craneBinary builds crane (see toolBinary); $CRANE names a prebuilt one.
func craneBinary(t *testing.T) string {
	return toolBinary(t, "CRANE", "crane", "github.com/google/go-containerregistry/cmd/crane", craneVersion)
}

func runCrane(t *testing.T, bin, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir, "DOCKER_CONFIG="+dir) // no credentials of the user's
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t.Logf("crane %s:\n%s", strings.Join(args, " "), out.String())
	return out.String(), err
}

// writeSplittableTree writes small files on both sides of one file at
// the split's own-layer size: under --layers auto that is three layers
// whatever the group sizes are. The large file compresses well, so the
// push stays quick.
func writeSplittableTree(t *testing.T, dir string) {
	t.Helper()
	files := map[string]string{}
	for i := range 20 {
		files[fmt.Sprintf("a/f%02d.txt", i)] = strings.Repeat(fmt.Sprintf("a file %d\n", i), 100+i)
		files[fmt.Sprintf("z/f%02d.txt", i)] = strings.Repeat(fmt.Sprintf("z file %d\n", i), 100+i)
	}
	line := "a large file, its own layer under --layers auto\n"
	files["m/big.bin"] = strings.Repeat(line, (33<<20)/len(line)+1)
	testtree.Write(t, dir, files)
}

// TestCraneValidatesLayers: `crane validate --remote` (every layer
// downloaded, its digest, size and diff ID checked against the manifest
// and config) accepts a split push, a split push of two platforms (an
// index), and a single-layer push; estargz's VerifyTOC passes on every
// layer of each; and blobber reads the split artifact back whole.
func TestCraneValidatesLayers(t *testing.T) {
	ctx := context.Background()
	bin := craneBinary(t)
	reg := registrytest.Start(t)
	work := t.TempDir()
	src := filepath.Join(work, "tree")
	writeSplittableTree(t, src)
	c, err := blobber.NewClient()
	testtree.Must(t, err)
	auto := blobber.WithLayers(blobber.LayersAuto)

	for _, tc := range []struct {
		tag    string
		opts   []blobber.PushOption
		layers int // at least
		// crane validate reads every layer through gzip whatever its media
		// type, so a zstd artifact is validated without its layers (manifest,
		// config, index); VerifyTOC below checks the layers.
		fast bool
	}{
		{"split", []blobber.PushOption{auto}, 3, false},
		{"split-platforms", []blobber.PushOption{auto, blobber.WithPlatforms("linux/amd64", "linux/arm64")}, 3, false},
		{"one", []blobber.PushOption{blobber.WithLayers(blobber.LayersOne)}, 1, false},
		{"split-zstd", []blobber.PushOption{auto, blobber.WithCompression(blobber.Zstd)}, 3, true},
	} {
		t.Run(tc.tag, func(t *testing.T) {
			ref := reg.Host() + "/interop/crane:" + tc.tag
			_, err := c.Push(ctx, ref, os.DirFS(src), tc.opts...)
			testtree.Must(t, err)
			args := []string{"validate", "--insecure", "--remote", ref}
			if tc.fast {
				args = append(args, "--fast")
			}
			if msg, err := runCrane(t, bin, work, args...); err != nil {
				t.Fatalf("crane validate: %v\n%s", err, msg)
			}
			n := verifyEveryLayer(t, reg.Host(), "interop/crane", tc.tag)
			if n < tc.layers || (tc.layers == 1 && n != 1) {
				t.Fatalf("%d layers, want %d", n, tc.layers)
			}
		})
	}

	dst := filepath.Join(work, "out")
	_, err = c.Pull(ctx, reg.Host()+"/interop/crane:split", dst)
	testtree.Must(t, err)
	testtree.Equal(t, src, dst)
}

// verifyEveryLayer opens every layer of repo:tag (of each manifest, when
// the tag is an index) with the estargz package, verifies its TOC against
// its own annotation, and returns how many layers a manifest has.
func verifyEveryLayer(t *testing.T, host, repo, tag string) int {
	t.Helper()
	ctx := context.Background()
	r, err := remote.NewRepository(host + "/" + repo)
	testtree.Must(t, err)
	r.PlainHTTP = true
	desc, raw, err := oras.FetchBytes(ctx, r, tag, oras.DefaultFetchBytesOptions)
	testtree.Must(t, err)
	var manifests [][]byte
	if desc.MediaType == ocispec.MediaTypeImageIndex {
		var idx ocispec.Index
		testtree.Must(t, json.Unmarshal(raw, &idx))
		for _, m := range idx.Manifests {
			b, err := content.FetchAll(ctx, r, m)
			testtree.Must(t, err)
			manifests = append(manifests, b)
		}
	} else {
		manifests = append(manifests, raw)
	}
	n := -1
	for _, raw := range manifests {
		var m ocispec.Manifest
		testtree.Must(t, json.Unmarshal(raw, &m))
		if n >= 0 && len(m.Layers) != n {
			t.Fatalf("the index's manifests have %d and %d layers", n, len(m.Layers))
		}
		n = len(m.Layers)
		for i, l := range m.Layers {
			blob, err := content.FetchAll(ctx, r, l)
			testtree.Must(t, err)
			er, err := estargz.Open(io.NewSectionReader(bytes.NewReader(blob), 0, int64(len(blob))), estargz.WithDecompressors(new(zstdchunked.Decompressor)))
			if err != nil {
				t.Fatalf("layer %d: estargz.Open: %v", i, err)
			}
			tocDigest, err := digest.Parse(l.Annotations[estargz.TOCJSONDigestAnnotation])
			testtree.Must(t, err)
			if _, err := er.VerifyTOC(tocDigest); err != nil {
				t.Fatalf("layer %d: estargz VerifyTOC: %v", i, err)
			}
		}
	}
	return n
}
