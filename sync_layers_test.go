package blobber_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// A sync of a split artifact's new version into a directory that holds
// the old one reads the new version's tables of contents (the config that
// holds them) and the changed file's chunks: no byte of any other layer.
func TestSyncLayersFetchesOnlyTheChangedChunks(t *testing.T) {
	defer blobber.SetSplitLimits(64<<10, 8<<10, 32<<10, 128<<10)()
	for _, changed := range []string{"d3/f013.bin", "big1.bin"} {
		t.Run(changed, func(t *testing.T) {
			f := newSyncFixture(t)
			entries := syncTree(60)
			r := rand.New(rand.NewPCG(3, 4))
			for _, name := range []string{"big0.bin", "big1.bin", "big2.bin"} {
				b := make([]byte, 80<<10)
				for j := range b {
					b[j] = byte(r.Uint32())
				}
				entries[name] = testtree.Entry{Content: string(b)}
			}
			auto := blobber.WithLayers(blobber.LayersAuto)
			pusher := newClient(t) // so that the syncing client's cache holds nothing of v2
			v1 := f.proxy.Host() + "/sync/layers:v1"
			pushEntries(t, pusher, v1, entries, auto)
			dir := t.TempDir()
			f.sync(v1, dir)

			content := []byte(entries[changed].Content)
			content[len(content)/2] ^= 0xff
			entries[changed] = testtree.Entry{Content: string(content)}
			v2 := f.proxy.Host() + "/sync/layers:v2"
			pushEntries(t, pusher, v2, entries, auto)
			layers := layersOf(t, pusher, v2)
			if len(layers) < 4 {
				t.Fatalf("%d layers", len(layers))
			}
			toc := settledTail(f, v2) // what an Open reads: the tables of contents

			res, _ := f.sync(v2, dir)
			stats := settled(f.proxy)
			if res.Fetched != 1 || res.Copied != 0 {
				t.Errorf("fetched %d files, copied %d; want the one changed", res.Fetched, res.Copied)
			}
			// What the sync reads besides the tables of contents is the
			// changed file's chunks, compressed: about its size, far less
			// than any layer.
			chunks := stats.BlobBytes - toc
			if limit := int64(len(content)) + 1<<10; chunks > limit || res.FetchedBytes > limit {
				t.Errorf("read %d blob bytes, %d of them the TOCs: %d of chunks (the plan said %d) for a file of %d",
					stats.BlobBytes, toc, chunks, res.FetchedBytes, len(content))
			}
			if stats.BlobRequests > 2 {
				t.Errorf("%d blob requests, want the config's and the file's", stats.BlobRequests)
			}
			f.sameAsPull(v2, dir)
		})
	}
}

// A sync after a few bytes of a large file changed, in a split artifact,
// fetches the chunk that holds them and takes the file's other chunks
// from its local version, each checked against the new chunk's digest.
func TestSyncLayersFetchesOnlyTheChangedChunk(t *testing.T) {
	defer blobber.SetSplitLimits(64<<10, 8<<10, 32<<10, 128<<10)()
	const chunk = 16 << 10
	f := newSyncFixture(t)
	entries := syncTree(30)
	r := rand.New(rand.NewPCG(5, 6))
	big := make([]byte, 16*chunk)
	for j := range big {
		big[j] = byte(r.Uint32())
	}
	entries["big.bin"] = testtree.Entry{Content: string(big)}
	opts := []blobber.PushOption{blobber.WithLayers(blobber.LayersAuto), blobber.WithChunkSize(chunk)}
	pusher := newClient(t)
	v1 := f.proxy.Host() + "/sync/chunks:v1"
	pushEntries(t, pusher, v1, entries, opts...)
	dir := t.TempDir()
	f.sync(v1, dir)

	big[5*chunk+100] ^= 0xff
	entries["big.bin"] = testtree.Entry{Content: string(big)}
	v2 := f.proxy.Host() + "/sync/chunks:v2"
	pushEntries(t, pusher, v2, entries, opts...)
	toc := settledTail(f, v2)
	res, _ := f.sync(v2, dir)
	stats := settled(f.proxy)
	if res.Fetched != 1 || res.Unchanged != 30 {
		t.Errorf("fetched %d files, unchanged %d; want 1, 30", res.Fetched, res.Unchanged)
	}
	if got := stats.BlobBytes - toc; got > chunk+1<<10 || res.FetchedBytes > chunk+1<<10 || res.FetchedBytes < chunk {
		t.Errorf("read %d bytes of chunks (the result says %d) for a change inside one chunk of %d", got, res.FetchedBytes, chunk)
	}
	f.sameAsPull(v2, dir)

	res, stats = f.sync(v2, dir)
	if !res.Plan.Identical() || res.Fetched != 0 || stats.BlobBytes > toc {
		t.Errorf("sync again: %d changes, fetched %d, %d blob bytes", len(res.Plan.Changes), res.Fetched, stats.BlobBytes)
	}
}

// settledTail is what an Open of ref reads from the registry with no
// cache: the tables of contents.
func settledTail(f *syncFixture, ref string) int64 {
	f.t.Helper()
	f.proxy.Reset()
	img, err := newClient(f.t).Open(context.Background(), ref)
	testtree.Must(f.t, err)
	img.Close()
	return settled(f.proxy).BlobBytes
}
