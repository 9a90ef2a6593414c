package blobber_test

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// Inspect reads the manifest, the config and the end of the layer that
// holds the TOC, and nothing else of the layer.
func TestInspectReadsOnlyManifestAndTOC(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	src := newTree(t)
	rng := rand.New(rand.NewPCG(3, 4))
	big := make([]byte, 2<<20)
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	testtree.Must(t, os.WriteFile(filepath.Join(src, "big.bin"), big, 0o644))

	c := newClient(t)
	ref := proxy.Host() + "/test/inspect:v1"
	desc, err := c.Push(ctx, ref, os.DirFS(src))
	testtree.Must(t, err)

	proxy.Reset()
	in, err := c.Inspect(ctx, ref)
	testtree.Must(t, err)
	s := proxy.Stats()
	if limit := int64(64<<10) + in.Config.Size; s.BlobBytes > limit {
		t.Errorf("inspect read %d blob bytes, want at most the 64 KiB tail and the %d-byte config", s.BlobBytes, in.Config.Size)
	}
	if s.BlobRequests > 2 {
		t.Errorf("inspect made %d blob requests, want the tail and the config", s.BlobRequests)
	}

	if in.Manifest.Digest != desc.Digest || string(in.RawManifest) == "" {
		t.Errorf("manifest %s (%d raw bytes), pushed %s", in.Manifest.Digest, len(in.RawManifest), desc.Digest)
	}
	// sampleFiles and big.bin: 7 files, 5 directories (bin, data,
	// data/nested, .config, empty), 2 symlinks.
	if in.Files != 7 || in.Directories != 5 || in.Symlinks != 2 {
		t.Errorf("counts: %d files, %d directories, %d symlinks; want 7, 5, 2", in.Files, in.Directories, in.Symlinks)
	}
	var want int64
	for _, content := range sampleFiles() {
		if len(content) < 3 || content[:3] != "-> " {
			want += int64(len(content))
		}
	}
	want += int64(len(big))
	if in.TotalSize != want {
		t.Errorf("total size %d, want %d", in.TotalSize, want)
	}
	if len(in.Layers) != 1 {
		t.Fatalf("%d layers", len(in.Layers))
	}
	l := in.Layers[0]
	if l.Compression != blobber.Gzip || l.TOCDigest == "" || l.DiffID == "" {
		t.Errorf("layer: %+v", l)
	}
	if l.UncompressedSizeFrom != "annotation" || l.UncompressedSize <= in.TotalSize {
		t.Errorf("uncompressed size %d from %q, want the tar stream's (more than %d)", l.UncompressedSize, l.UncompressedSizeFrom, in.TotalSize)
	}
	if in.ReferrersErr != nil || len(in.Referrers) != 0 || in.SignatureCount() != 0 {
		t.Errorf("referrers %v (%v)", in.Referrers, in.ReferrersErr)
	}
}
