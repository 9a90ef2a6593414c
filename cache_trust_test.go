package blobber_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/cache"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// A fingerprint record is a hint, not a proof: one that someone planted to
// name another tree's manifest is checked against the tree (its TOC read
// back and compared file by file) and ignored, and the push builds and
// publishes the real tree instead of tagging (and signing) the other one.
func TestPlantedFingerprintIsNotTagged(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	cacheDir := t.TempDir()
	c := newClient(t, blobber.WithCache(cacheDir))

	mine := newTree(t)
	theirs := t.TempDir()
	testtree.Write(t, theirs, map[string]string{"README.md": "# not yours\n", "payload": "evil"})
	other, err := c.Push(ctx, reg.Host()+"/trust/app:theirs", os.DirFS(theirs))
	testtree.Must(t, err)
	first, err := c.Push(ctx, reg.Host()+"/trust/app:v1", os.DirFS(mine))
	testtree.Must(t, err)

	// Point the record of this tree's fingerprint at the other manifest.
	cc, err := cache.Open(cacheDir)
	testtree.Must(t, err)
	defer cc.Close()
	info, err := cc.Info()
	testtree.Must(t, err)
	planted := 0
	for _, e := range info.Entries {
		if e.Kind != cache.KindFingerprint {
			continue
		}
		if e.Digest == first.Digest {
			testtree.Must(t, cc.PutFingerprint(e.Key, other.Digest, other.MediaType, other.Size))
			planted++
		}
	}
	if planted != 1 {
		t.Fatalf("found %d fingerprint records of the tree, want 1", planted)
	}

	before := blobber.ClientCounts(c)
	again, err := c.Push(ctx, reg.Host()+"/trust/app:v2", os.DirFS(mine))
	testtree.Must(t, err)
	if again.Digest == other.Digest {
		t.Fatal("the planted fingerprint record got the other tree's manifest tagged")
	}
	if again.Digest != first.Digest {
		t.Fatalf("re-push gave %s, want the tree's own %s", again.Digest, first.Digest)
	}
	if n := blobber.ClientCounts(c); n.RefusedRecords != before.RefusedRecords+1 || n.ReusedPushes != before.ReusedPushes || n.LayersBuilt != before.LayersBuilt+1 {
		t.Fatalf("the planted record was not refused: %d records refused, %d pushes reused, %d layers built; want 1, 0, 1",
			n.RefusedRecords-before.RefusedRecords, n.ReusedPushes-before.ReusedPushes, n.LayersBuilt-before.LayersBuilt)
	}
	dst := filepath.Join(t.TempDir(), "out")
	_, err = newClient(t).Pull(ctx, reg.Host()+"/trust/app:v2", dst)
	testtree.Must(t, err)
	testtree.Equal(t, mine, dst)

	// The record is right again (the push remembered the real manifest):
	// the next push of the tree reuses it, after checking it.
	before = blobber.ClientCounts(c)
	third, err := c.Push(ctx, reg.Host()+"/trust/app:v3", os.DirFS(mine))
	testtree.Must(t, err)
	if n := blobber.ClientCounts(c); third.Digest != first.Digest || n.ReusedPushes != before.ReusedPushes+1 || n.RefusedRecords != before.RefusedRecords {
		t.Fatalf("an honest record was not reused: %d pushes reused, %d records refused; want 1, 0",
			n.ReusedPushes-before.ReusedPushes, n.RefusedRecords-before.RefusedRecords)
	}
}

// A cache that cannot be opened costs a warning, not the command.
func TestUnusableCacheDegrades(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	notADir := filepath.Join(t.TempDir(), "file")
	testtree.Must(t, os.WriteFile(notADir, nil, 0o600))
	unsafeDir := filepath.Join(t.TempDir(), "shared")
	testtree.Must(t, os.Mkdir(unsafeDir, 0o700))
	testtree.Must(t, os.Chmod(unsafeDir, 0o777))

	for name, dir := range map[string]string{"cannot be created": filepath.Join(notADir, "cache"), "world-writable": unsafeDir} {
		t.Run(name, func(t *testing.T) {
			c, err := blobber.NewClient(blobber.WithCache(dir))
			testtree.Must(t, err)
			if blobber.UsesCache(c) {
				t.Fatal("the client uses a cache it should have refused")
			}
			src := newTree(t)
			ref := reg.Host() + "/degrade/app:v1"
			_, err = c.Push(ctx, ref, os.DirFS(src))
			testtree.Must(t, err)
			dst := filepath.Join(t.TempDir(), "out")
			_, err = c.Pull(ctx, ref, dst)
			testtree.Must(t, err)
			testtree.Equal(t, src, dst)
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Fatalf("the refused cache directory was written: %v", entries)
			}

			// Offline, there is nothing to go on with.
			if _, err := blobber.NewClient(blobber.WithCache(dir), blobber.WithOffline()); err == nil {
				t.Fatal("offline with an unusable cache did not fail")
			}
		})
	}
}

// A cache write that fails (here: its directories replaced by files once
// it is open, which no permission bit would do for root) is logged once,
// and every read the registry served succeeds.
func TestFailingCacheWritesDoNotFailReads(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	src, small, big := cacheTree(t)
	ref := reg.Host() + "/degrade/writes:v1"
	_, err := newClient(t).Push(ctx, ref, os.DirFS(src))
	testtree.Must(t, err)

	cacheDir := t.TempDir()
	c := newClient(t, blobber.WithCache(cacheDir))
	for _, d := range []string{"partial/sha256", "blobs/sha256", "manifests/sha256", "tags", "sources/sha256", "locks"} {
		p := filepath.Join(cacheDir, filepath.FromSlash(d))
		testtree.Must(t, os.RemoveAll(p))
		testtree.Must(t, os.WriteFile(p, nil, 0o600))
	}
	if got := catFile(t, c, ref, "small.txt"); !bytes.Equal(got, small) {
		t.Fatal("small.txt differs")
	}
	if got := catFile(t, c, ref, "big.bin"); !bytes.Equal(got, big) {
		t.Fatal("big.bin differs")
	}
	dst := filepath.Join(t.TempDir(), "out")
	_, err = c.Pull(ctx, ref, dst)
	testtree.Must(t, err)
	testtree.Equal(t, src, dst)
	if n := blobber.ClientCounts(c).CacheWriteErrors; n != 1 {
		t.Fatalf("%d failed cache writes reported, want 1", n)
	}
}
