package blobber_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/cache"
	"github.com/blobber-dev/blobber/internal/registrytest"
)

// A fingerprint record is a hint, not a proof: one that someone planted to
// name another tree's manifest is checked against the tree (its TOC read
// back and compared file by file) and ignored, and the push builds and
// publishes the real tree instead of tagging (and signing) the other one.
func TestPlantedFingerprintIsNotTagged(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	cacheDir := t.TempDir()
	var logs bytes.Buffer
	c := newClient(t, blobber.WithCache(cacheDir), blobber.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))

	mine := newTree(t)
	theirs := t.TempDir()
	writeTree(t, theirs, map[string]string{"README.md": "# not yours\n", "payload": "evil"})
	other, err := c.Push(ctx, reg.Host()+"/trust/app:theirs", os.DirFS(theirs))
	must(t, err)
	first, err := c.Push(ctx, reg.Host()+"/trust/app:v1", os.DirFS(mine))
	must(t, err)

	// Point the record of this tree's fingerprint at the other manifest.
	cc, err := cache.Open(cacheDir)
	must(t, err)
	defer cc.Close()
	info, err := cc.Info()
	must(t, err)
	planted := 0
	for _, e := range info.Entries {
		if e.Kind != cache.KindFingerprint {
			continue
		}
		if e.Digest == first.Digest {
			must(t, cc.PutFingerprint(e.Key, other.Digest, other.MediaType, other.Size))
			planted++
		}
	}
	if planted != 1 {
		t.Fatalf("found %d fingerprint records of the tree, want 1", planted)
	}

	logs.Reset()
	again, err := c.Push(ctx, reg.Host()+"/trust/app:v2", os.DirFS(mine))
	must(t, err)
	if again.Digest == other.Digest {
		t.Fatal("the planted fingerprint record got the other tree's manifest tagged")
	}
	if again.Digest != first.Digest {
		t.Fatalf("re-push gave %s, want the tree's own %s", again.Digest, first.Digest)
	}
	if !strings.Contains(logs.String(), "ignoring the cache's record") || strings.Contains(logs.String(), "reused its layer") {
		t.Fatalf("the planted record was not refused:\n%s", logs.String())
	}
	dst := filepath.Join(t.TempDir(), "out")
	_, err = newClient(t).Pull(ctx, reg.Host()+"/trust/app:v2", dst)
	must(t, err)
	compareTrees(t, mine, dst)

	// The record is right again (the push remembered the real manifest):
	// the next push of the tree reuses it, after checking it.
	logs.Reset()
	third, err := c.Push(ctx, reg.Host()+"/trust/app:v3", os.DirFS(mine))
	must(t, err)
	if third.Digest != first.Digest || !strings.Contains(logs.String(), "reused its layer") {
		t.Fatalf("an honest record was not reused:\n%s", logs.String())
	}
}

// A cache that cannot be opened costs a warning, not the command.
func TestUnusableCacheDegrades(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	notADir := filepath.Join(t.TempDir(), "file")
	must(t, os.WriteFile(notADir, nil, 0o600))
	unsafeDir := filepath.Join(t.TempDir(), "shared")
	must(t, os.Mkdir(unsafeDir, 0o700))
	must(t, os.Chmod(unsafeDir, 0o777))

	for name, dir := range map[string]string{"cannot be created": filepath.Join(notADir, "cache"), "world-writable": unsafeDir} {
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			c, err := blobber.NewClient(blobber.WithCache(dir), blobber.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			must(t, err)
			if !strings.Contains(logs.String(), "not using the cache") {
				t.Fatalf("no warning:\n%s", logs.String())
			}
			src := newTree(t)
			ref := reg.Host() + "/degrade/app:v1"
			_, err = c.Push(ctx, ref, os.DirFS(src))
			must(t, err)
			dst := filepath.Join(t.TempDir(), "out")
			_, err = c.Pull(ctx, ref, dst)
			must(t, err)
			compareTrees(t, src, dst)
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
	must(t, err)

	cacheDir := t.TempDir()
	var logs bytes.Buffer
	c := newClient(t, blobber.WithCache(cacheDir), blobber.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	for _, d := range []string{"partial/sha256", "blobs/sha256", "manifests/sha256", "tags", "sources/sha256", "locks"} {
		p := filepath.Join(cacheDir, filepath.FromSlash(d))
		must(t, os.RemoveAll(p))
		must(t, os.WriteFile(p, nil, 0o600))
	}
	if got := catFile(t, c, ref, "small.txt"); !bytes.Equal(got, small) {
		t.Fatal("small.txt differs")
	}
	if got := catFile(t, c, ref, "big.bin"); !bytes.Equal(got, big) {
		t.Fatal("big.bin differs")
	}
	dst := filepath.Join(t.TempDir(), "out")
	_, err = c.Pull(ctx, ref, dst)
	must(t, err)
	compareTrees(t, src, dst)
	if n := strings.Count(logs.String(), "cannot write to the cache"); n != 1 {
		t.Fatalf("%d warnings of failed cache writes, want 1:\n%s", n, logs.String())
	}
}
