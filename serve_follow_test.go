package blobber_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// Follow serves what the tag names: after v2 is pushed under the same tag,
// the next refresh switches to it, and a request that began on v1 ends
// on v1, whole.
func TestServeFollowSwitches(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	c := newClient(t)
	ref := reg.Host() + "/serve/follow:live"
	big1, big2 := randomBytes(11, 8<<20), randomBytes(12, 8<<20)
	tree := func(version string, big []byte) fstest.MapFS {
		return fstest.MapFS{
			"version.txt": {Data: []byte(version), Mode: 0o644},
			"big.bin":     {Data: big, Mode: 0o644},
		}
	}
	_, err := c.Push(ctx, ref, tree("v1", big1), blobber.WithChunkSize(256<<10))
	testtree.Must(t, err)

	f, err := c.Follow(ctx, ref, time.Hour)
	testtree.Must(t, err)
	defer f.Close()
	srv := httptest.NewServer(f)
	defer srv.Close()
	if _, body := get(t, srv.URL+"/version.txt"); string(body) != "v1" {
		t.Fatalf("before the push: %q", body)
	}
	first := f.Descriptor().Digest

	// A request that has begun on v1: its first byte read, the rest not.
	inflight, err := http.Get(srv.URL + "/big.bin")
	testtree.Must(t, err)
	defer inflight.Body.Close()
	head := make([]byte, 1)
	_, err = io.ReadFull(inflight.Body, head)
	testtree.Must(t, err)

	desc2, err := c.Push(ctx, ref, tree("v2", big2), blobber.WithChunkSize(256<<10))
	testtree.Must(t, err)
	switched, err := f.Refresh(ctx)
	testtree.Must(t, err)
	if !switched || f.Descriptor().Digest != desc2.Digest {
		t.Fatalf("Refresh after the push: switched %v, serving %s, pushed %s", switched, f.Descriptor().Digest, desc2.Digest)
	}
	if _, body := get(t, srv.URL+"/version.txt"); string(body) != "v2" {
		t.Fatalf("after the switch: %q", body)
	}
	rest, err := io.ReadAll(inflight.Body)
	testtree.Must(t, err)
	if !bytes.Equal(append(head, rest...), big1) {
		t.Fatalf("the request begun before the switch got %d bytes, not v1's big.bin", 1+len(rest))
	}
	if again, err := f.Refresh(ctx); err != nil || again {
		t.Fatalf("Refresh with the tag unmoved: switched %v, %v", again, err)
	}
	if first == f.Descriptor().Digest {
		t.Fatal("digest unchanged")
	}
}

// The refresh runs by itself every interval.
func TestServeFollowRefreshesOnItsOwn(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	c := newClient(t)
	ref := reg.Host() + "/serve/refresh:live"
	src := t.TempDir()
	testtree.Must(t, os.WriteFile(filepath.Join(src, "v.txt"), []byte("one"), 0o644))
	_, err := c.Push(ctx, ref, os.DirFS(src))
	testtree.Must(t, err)
	f, err := c.Follow(ctx, ref, 20*time.Millisecond, blobber.WithoutListing())
	testtree.Must(t, err)
	defer f.Close()
	srv := httptest.NewServer(f)
	defer srv.Close()
	testtree.Must(t, os.WriteFile(filepath.Join(src, "v.txt"), []byte("two"), 0o644))
	_, err = c.Push(ctx, ref, os.DirFS(src))
	testtree.Must(t, err)
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, body := get(t, srv.URL+"/v.txt")
		if string(body) == "two" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still serving %q", body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if resp, _ := get(t, srv.URL+"/"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("the options reach the new artifact's handler: listing gave %s", resp.Status)
	}
	testtree.Must(t, f.Close())
	if resp, _ := get(t, srv.URL+"/v.txt"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("after Close: %s", resp.Status)
	}
}

func TestServeFollowRefusesDigestsAndBadIntervals(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	c := newClient(t)
	ref := reg.Host() + "/serve/pinned:v1"
	src := t.TempDir()
	testtree.Must(t, os.WriteFile(filepath.Join(src, "a"), []byte("a"), 0o644))
	desc, err := c.Push(ctx, ref, os.DirFS(src))
	testtree.Must(t, err)
	if _, err := c.Follow(ctx, reg.Host()+"/serve/pinned@"+desc.Digest.String(), time.Second); !errors.Is(err, blobber.ErrInvalidOption) {
		t.Fatalf("Follow of a digest: %v", err)
	}
	if _, err := c.Follow(ctx, ref, 0); !errors.Is(err, blobber.ErrInvalidOption) {
		t.Fatalf("Follow every 0s: %v", err)
	}
}
