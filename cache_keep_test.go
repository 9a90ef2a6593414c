package blobber_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	ta "github.com/blobber-dev/blobber/internal/testartifact"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// What verified stays cached: a cat that hits one corrupted chunk of a
// cached layer fetches that chunk again, and drops nothing else, so the
// TOC it has just verified still serves an offline ls.
func TestCorruptChunkDropsOnlyItself(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	src, small, big := cacheTree(t)
	c, ref, cacheDir, _ := pushCached(t, proxy.Host()+"/cache/keep:v1", src)
	_, err := c.Pull(ctx, ref, filepath.Join(t.TempDir(), "out"))
	testtree.Must(t, err)

	blobs, _ := filepath.Glob(filepath.Join(cacheDir, "blobs", "sha256", "*"))
	var layer string
	var blob []byte
	for _, p := range blobs {
		data, err := os.ReadFile(p)
		testtree.Must(t, err)
		if len(data) > len(blob) {
			layer, blob = p, data
		}
	}
	toc, _, err := ta.ReadTOC(blob)
	testtree.Must(t, err)
	e := ta.Find(toc, "big.bin")
	if e == nil {
		t.Fatal("big.bin not in the TOC")
	}
	blob[e.Offset+8000] ^= 0xff // inside big.bin's first chunk
	testtree.Must(t, os.WriteFile(layer, blob, 0o600))

	proxy.Reset()
	if got := catFile(t, c, ref, "big.bin"); !bytes.Equal(got, big) {
		t.Fatal("big.bin differs after its cached chunk was corrupted")
	}
	if s := proxy.Stats(); s.BlobBytes == 0 || s.BlobBytes >= int64(len(blob))/2 {
		t.Fatalf("fetched %d layer bytes again for one bad chunk of a %d-byte layer", s.BlobBytes, len(blob))
	}

	reg.Close() // no network from here on
	offline := newClient(t, blobber.WithCache(cacheDir), blobber.WithOffline())
	img, err := offline.Open(ctx, ref)
	testtree.Must(t, err)
	defer img.Close()
	entries, err := img.ReadDir(".")
	testtree.Must(t, err)
	if len(entries) != 2 {
		t.Fatalf("offline ls after the refetch: %d entries", len(entries))
	}
	for name, want := range map[string][]byte{"small.txt": small, "big.bin": big} {
		if got := catFile(t, offline, ref, name); !bytes.Equal(got, want) {
			t.Fatalf("%s differs offline", name)
		}
	}
}
