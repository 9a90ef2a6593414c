package blobber_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	ta "github.com/blobber-dev/blobber/internal/testartifact"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// cacheTree has a 4 KiB text file and an 8 MiB random one (two chunks).
func cacheTree(t *testing.T) (dir string, small, big []byte) {
	dir = t.TempDir()
	small = bytes.Repeat([]byte("cache me\n"), 455)
	big = make([]byte, 8<<20)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	testtree.Must(t, os.WriteFile(filepath.Join(dir, "small.txt"), small, 0o644))
	testtree.Must(t, os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o644))
	return dir, small, big
}

// pushCached pushes src to ref with a new client that has a cache of its
// own, and returns the client, ref, the cache's directory and the pushed
// manifest's descriptor.
func pushCached(t *testing.T, ref, src string) (*blobber.Client, string, string, ocispec.Descriptor) {
	t.Helper()
	cacheDir := t.TempDir()
	c := newClient(t, blobber.WithCache(cacheDir))
	desc, err := c.Push(context.Background(), ref, os.DirFS(src))
	testtree.Must(t, err)
	return c, ref, cacheDir, desc
}

func catFile(t *testing.T, c *blobber.Client, ref, name string) []byte {
	t.Helper()
	img, err := c.Open(context.Background(), ref)
	testtree.Must(t, err)
	defer img.Close()
	var out bytes.Buffer
	_, err = img.WriteFileTo(&out, name)
	testtree.Must(t, err)
	return out.Bytes()
}

func TestCacheMakesRepeatReadsFree(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	src, small, big := cacheTree(t)
	cacheDir := t.TempDir()
	c := newClient(t, blobber.WithCache(cacheDir))
	desc, err := c.Push(ctx, proxy.Host()+"/cache/tree:v1", os.DirFS(src))
	testtree.Must(t, err)
	byDigest := proxy.Host() + "/cache/tree@" + desc.Digest.String()

	// ls of a digest reference, twice: the second makes no request at all.
	img, err := c.Open(ctx, byDigest)
	testtree.Must(t, err)
	img.Close()
	proxy.Reset()
	img, err = c.Open(ctx, byDigest)
	testtree.Must(t, err)
	img.Close()
	if s := proxy.Stats(); s.Requests != 0 {
		t.Fatalf("second ls of a digest reference made %d requests (%d blob)", s.Requests, s.BlobRequests)
	}

	// cat of the same file, twice: the second makes no blob request.
	if got := catFile(t, c, byDigest, "small.txt"); !bytes.Equal(got, small) {
		t.Fatal("small.txt differs")
	}
	proxy.Reset()
	if got := catFile(t, c, byDigest, "small.txt"); !bytes.Equal(got, small) {
		t.Fatal("small.txt differs from the cache")
	}
	if s := proxy.Stats(); s.BlobRequests != 0 {
		t.Fatalf("second cat made %d blob requests", s.BlobRequests)
	}

	// A pull after cat of big.bin does not fetch its chunks again.
	if got := catFile(t, c, byDigest, "big.bin"); !bytes.Equal(got, big) {
		t.Fatal("big.bin differs")
	}
	proxy.Reset()
	_, err = c.Pull(ctx, byDigest, filepath.Join(t.TempDir(), "out"))
	testtree.Must(t, err)
	if s := proxy.Stats(); s.BlobBytes > 1<<20 {
		t.Fatalf("pull after cat fetched %d blob bytes; big.bin's 8 MiB should have come from the cache", s.BlobBytes)
	}

	// A second full pull reads no blob bytes.
	proxy.Reset()
	dst := filepath.Join(t.TempDir(), "again")
	_, err = c.Pull(ctx, proxy.Host()+"/cache/tree:v1", dst)
	testtree.Must(t, err)
	if s := proxy.Stats(); s.BlobBytes != 0 || s.BlobRequests != 0 {
		t.Fatalf("second pull fetched %d blob bytes in %d requests", s.BlobBytes, s.BlobRequests)
	}
	testtree.Equal(t, src, dst)
}

func TestCacheServesOffline(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	src, small, _ := cacheTree(t)
	cacheDir := t.TempDir()
	ref := reg.Host() + "/cache/offline:v1"
	online := newClient(t, blobber.WithCache(cacheDir))
	_, err := online.Push(ctx, ref, os.DirFS(src))
	testtree.Must(t, err)
	_, err = online.Pull(ctx, ref, filepath.Join(t.TempDir(), "out"))
	testtree.Must(t, err)
	reg.Close() // no network from here on

	offline := newClient(t, blobber.WithCache(cacheDir), blobber.WithOffline())
	if got := catFile(t, offline, ref, "small.txt"); !bytes.Equal(got, small) {
		t.Fatal("small.txt differs offline")
	}
	dst := filepath.Join(t.TempDir(), "offline")
	_, err = offline.Pull(ctx, ref, dst)
	testtree.Must(t, err)
	testtree.Equal(t, src, dst)
	if _, err := offline.Open(ctx, reg.Host()+"/cache/offline:v2"); !errors.Is(err, blobber.ErrNotFound) {
		t.Fatalf("uncached reference offline: %v", err)
	}
}

func TestCorruptedCacheIsRefetched(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	src, small, big := cacheTree(t)
	c, ref, cacheDir, _ := pushCached(t, proxy.Host()+"/cache/corrupt:v1", src)
	_, err := c.Pull(ctx, ref, filepath.Join(t.TempDir(), "out"))
	testtree.Must(t, err)

	// Flip bytes all through every cached blob.
	blobs, _ := filepath.Glob(filepath.Join(cacheDir, "blobs", "sha256", "*"))
	if len(blobs) == 0 {
		t.Fatal("a full pull left no complete blob in the cache")
	}
	for _, p := range blobs {
		data, err := os.ReadFile(p)
		testtree.Must(t, err)
		for i := 0; i < len(data); i += 4096 {
			data[i] ^= 0xff
		}
		testtree.Must(t, os.WriteFile(p, data, 0o644))
	}
	proxy.Reset()
	if got := catFile(t, c, ref, "big.bin"); !bytes.Equal(got, big) {
		t.Fatal("big.bin differs after the cache was corrupted")
	}
	if got := catFile(t, c, ref, "small.txt"); !bytes.Equal(got, small) {
		t.Fatal("small.txt differs after the cache was corrupted")
	}
	if proxy.Stats().BlobRequests == 0 {
		t.Fatal("corrupted cache entries were served without refetching")
	}
	dst := filepath.Join(t.TempDir(), "again")
	_, err = c.Pull(ctx, ref, dst)
	testtree.Must(t, err)
	testtree.Equal(t, src, dst)
}

// A pull into an empty directory checks only the layer's digest, at its
// end (and the CRC-32 of gzip members): cached bytes that went bad where
// only the digest sees it are caught there, dropped, and the pull starts
// again from the registry rather than failing.
func TestCorruptedPartialCacheIsPulledAgain(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	src, _, big := cacheTree(t)
	c, ref, cacheDir, desc := pushCached(t, proxy.Host()+"/cache/partial:v1", src)
	if got := catFile(t, c, ref, "big.bin"); !bytes.Equal(got, big) {
		t.Fatal("cat of big.bin differs")
	}
	parts, _ := filepath.Glob(filepath.Join(cacheDir, "partial", "sha256", "*.data"))
	if len(parts) != 1 {
		t.Fatalf("after a cat, want one partial entry in the cache, got %v", parts)
	}
	// The MTIME in the gzip header of big.bin's second chunk: a byte that
	// decoding ignores, so only the layer's digest can tell.
	data, err := os.ReadFile(parts[0])
	testtree.Must(t, err)
	toc, _, err := ta.ReadTOC(data) // the cached tail holds footer and TOC
	testtree.Must(t, err)
	member := int64(-1)
	for _, e := range toc.Entries {
		if e.Name == "big.bin" && e.Type == "chunk" {
			member = e.Offset
		}
	}
	if member < 0 || data[member] != 0x1f || data[member+1] != 0x8b {
		t.Fatalf("no gzip member for big.bin's second chunk at %d", member)
	}
	data[member+4] ^= 0xff
	testtree.Must(t, os.WriteFile(parts[0], data, 0o600))

	proxy.Reset()
	dst := filepath.Join(t.TempDir(), "out")
	got, err := c.Pull(ctx, ref, dst)
	testtree.Must(t, err)
	if got.Digest != desc.Digest {
		t.Fatalf("pulled %s, pushed %s", got.Digest, desc.Digest)
	}
	testtree.Equal(t, src, dst)
	if s := proxy.Stats(); s.BlobBytes < int64(len(data))/2 {
		t.Fatalf("the pull fetched %d bytes: it did not fetch the layer again", s.BlobBytes)
	}

	// The cache holds the verified layer now: a second pull fetches nothing.
	proxy.Reset()
	again := filepath.Join(t.TempDir(), "again")
	_, err = c.Pull(ctx, ref, again)
	testtree.Must(t, err)
	testtree.Equal(t, src, again)
	if s := proxy.Stats(); s.BlobRequests != 0 {
		t.Fatalf("second pull made %d blob requests", s.BlobRequests)
	}
}

// A staged pull writes chunks unchecked. When one chunk of a segment
// decodes from cached bytes that went bad silently and a later one fails,
// fetching the segment again would leave the first written wrong while
// the layer's digest, taken over the bytes fetched again, matched: the
// pull must start over instead. a.bin's gzip member goes on past it with
// the headers of 100 empty files, too far for its CRC-32 to be checked, so
// a flipped byte in its stored data decodes without complaint.
func TestCorruptedCacheSilentChunkIsPulledAgain(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	src := t.TempDir()
	rng := rand.New(rand.NewPCG(7, 8))
	random := func() []byte {
		b := make([]byte, 16<<10)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	testtree.Must(t, os.WriteFile(filepath.Join(src, "a.bin"), random(), 0o644))
	for i := range 100 {
		testtree.Must(t, os.WriteFile(filepath.Join(src, fmt.Sprintf("b%03d", i)), nil, 0o644))
	}
	testtree.Must(t, os.WriteFile(filepath.Join(src, "c.bin"), random(), 0o644))
	c, ref, cacheDir, _ := pushCached(t, reg.Host()+"/cache/silent:v1", src)
	_, err := c.Pull(ctx, ref, filepath.Join(t.TempDir(), "first"))
	testtree.Must(t, err)

	blobs, _ := filepath.Glob(filepath.Join(cacheDir, "blobs", "sha256", "*"))
	if len(blobs) != 1 {
		t.Fatalf("want the layer alone in the cache, got %v", blobs)
	}
	blob, err := os.ReadFile(blobs[0])
	testtree.Must(t, err)
	toc, _, err := ta.ReadTOC(blob)
	testtree.Must(t, err)
	a, c2 := ta.Find(toc, "a.bin"), ta.Find(toc, "c.bin")
	if a == nil || c2 == nil {
		t.Fatal("a.bin or c.bin not in the TOC")
	}
	blob[a.Offset+8000] ^= 0xff // inside a stored block: decodes, wrongly
	blob[c2.Offset] ^= 0xff     // the gzip magic: does not decode
	testtree.Must(t, os.WriteFile(blobs[0], blob, 0o644))

	dst := filepath.Join(t.TempDir(), "again")
	_, err = c.Pull(ctx, ref, dst)
	testtree.Must(t, err)
	testtree.Equal(t, src, dst)
}
