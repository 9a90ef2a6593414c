package blobber_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	ta "github.com/blobber-dev/blobber/internal/testartifact"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// A zstd:chunked artifact whose chunk frames declare a window of 384 MiB
// (the bytes are right: only the frame headers lie). A decoder that trusts
// them allocates the window for every chunk in flight; blobber refuses
// them as corrupt, cat and pull alike, holding no such window.
func TestHostileZstdWindow(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	blob, _, diffID, err := ta.EStargzWith(ta.Tar(
		ta.File("a", strings.Repeat("alpha ", 20000), 0o644),
		ta.File("b", "bravo-content", 0o644),
	), ta.Options{Zstd: true})
	testtree.Must(t, err)
	const window = 384 << 20
	blob, tocDigest, err := ta.ReframeZstd(blob, window, false)
	testtree.Must(t, err)
	a := ta.New(blob, tocDigest, diffID)
	a.Layer.MediaType = ocispec.MediaTypeImageLayerZstd
	repo, ref := hostileRepo(t, reg.Host(), "zstdwindow")
	_, err = a.Push(ctx, repo, "v1")
	testtree.Must(t, err)
	ref += ":v1"

	c, err := blobber.NewClient(blobber.WithConcurrency(2))
	testtree.Must(t, err)
	img, err := c.Open(ctx, ref)
	testtree.Must(t, err) // the TOC is sound: only the chunks lie
	defer img.Close()
	if n := hostileAlloc(func() { _, err = img.WriteFileTo(io.Discard, "a") }); n > hostileAllocLimit {
		t.Errorf("cat held %d MiB", n>>20)
	}
	hostileWantErr(t, "cat", err, hDigest)

	env := newHostileEnv(t)
	if n := hostileAlloc(func() { _, err = c.Pull(ctx, ref, env.dir) }); n > hostileAllocLimit {
		t.Errorf("pull held %d MiB", n>>20)
	}
	hostileWantErr(t, "pull", err, hDigest)
	if _, err := os.Lstat(env.dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("failed pull left the target behind")
	}
}
