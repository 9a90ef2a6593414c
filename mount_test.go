package blobber_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"oras.land/oras-go/v2/registry/remote/auth"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// pullAndCompare pulls ref with a client of its own (no cache) and checks
// that it holds the tree src.
func pullAndCompare(t *testing.T, ref, src string, opts ...blobber.Option) {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "out")
	_, err := newClient(t, opts...).Pull(context.Background(), ref, dst)
	testtree.Must(t, err)
	testtree.Equal(t, src, dst)
}

// A tree the registry already has in one repository is pushed to another
// by mounting its layer and config: no byte is uploaded, whether the layer
// is built again (a fresh checkout of the same files) or, the tree being
// unchanged, not built at all.
func TestPushMountsBlobsTheRegistryHas(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	c := newClient(t, blobber.WithCache(t.TempDir()))
	src := newTree(t)
	first, err := c.Push(ctx, proxy.Host()+"/team/a:v1", os.DirFS(src))
	testtree.Must(t, err)

	cases := []struct {
		name  string
		src   string
		opts  []blobber.PushOption
		built bool
	}{
		{"rebuilt", newTree(t), nil, true},
		{"rebuilt-chunked", newTree(t), []blobber.PushOption{blobber.WithUploadChunkSize(1 << 20)}, true},
		{"unchanged", src, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ref := proxy.Host() + "/team/" + tc.name + ":v1"
			proxy.Reset()
			before := blobber.ClientCounts(c).LayersBuilt
			desc, err := c.Push(ctx, ref, os.DirFS(tc.src), tc.opts...)
			testtree.Must(t, err)
			if desc.Digest != first.Digest {
				t.Fatalf("pushed %s, want the first push's %s", desc.Digest, first.Digest)
			}
			st := proxy.Stats()
			if st.UploadBytes != 0 || st.Mounts != 2 {
				t.Errorf("uploaded %d bytes, mounted %d blobs (of %d mount requests); want 0 bytes, layer and config mounted",
					st.UploadBytes, st.Mounts, st.MountRequests)
			}
			want := int64(0)
			if tc.built {
				want = 1
			}
			if built := blobber.ClientCounts(c).LayersBuilt - before; built != want {
				t.Errorf("%d layers built, want %d", built, want)
			}
			pullAndCompare(t, ref, src)
		})
	}
}

// Reading an artifact teaches the cache where its blobs are: a push of
// the same tree elsewhere on that registry mounts them.
func TestPulledBlobsAreMounted(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	src := newTree(t)
	_, err := newClient(t).Push(ctx, proxy.Host()+"/upstream/tree:v1", os.DirFS(src))
	testtree.Must(t, err)

	c := newClient(t, blobber.WithCache(t.TempDir()))
	_, err = c.Pull(ctx, proxy.Host()+"/upstream/tree:v1", filepath.Join(t.TempDir(), "out"))
	testtree.Must(t, err)
	proxy.Reset()
	ref := proxy.Host() + "/mirror/tree:v1"
	_, err = c.Push(ctx, ref, os.DirFS(newTree(t)))
	testtree.Must(t, err)
	wantAllMounted(t, proxy, "")
	pullAndCompare(t, ref, src)
}

// A registry that does not mount (it opens an upload session instead, as
// the spec allows) gets the blobs uploaded, and the push succeeds.
func TestPushUploadsWhenTheRegistryDoesNotMount(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	var mu sync.Mutex
	var cancelled []string // the sessions blobber cancelled
	proxy.SetFaults(func(r *http.Request) *registrytest.Fault {
		if r.URL.Query().Has("mount") {
			return &registrytest.Fault{NoMount: true}
		}
		if r.Method == http.MethodDelete && strings.Contains(r.URL.Path, "/blobs/uploads/") {
			mu.Lock()
			cancelled = append(cancelled, proxy.URL()+r.URL.RequestURI())
			mu.Unlock()
		}
		return nil
	})
	ctx := context.Background()
	c := newClient(t, blobber.WithCache(t.TempDir()))
	src := newTree(t)
	_, err := c.Push(ctx, proxy.Host()+"/team/a:v1", os.DirFS(src))
	testtree.Must(t, err)
	blobBytes := proxy.Stats().UploadBytes // layer and config

	cases := []struct {
		name string
		src  string
		opts []blobber.PushOption
		// Requests on /blobs/uploads/. Per blob, one mount request, which
		// opens a session (the sources remembered by earlier cases are not
		// asked: a registry that opened a session would not mount from
		// them either). A monolithic upload goes into that session (PUT);
		// a chunked one cancels it (DELETE) and opens its own (POST,
		// PATCH, PUT), as does the layer's upload after an unchanged
		// tree's layer failed to mount. And per push, the session opened
		// before the tree is read, to prove the right to push, which is
		// cancelled when the layer is not uploaded while it is built
		// (POST, DELETE).
		uploadRequests int64
		cancels        int
	}{
		{"rebuilt", newTree(t), nil, 2 + 2 + 2, 0 + 1},
		{"rebuilt-chunked", newTree(t), []blobber.PushOption{blobber.WithUploadChunkSize(1 << 20)}, 5 + 2 + 2, 1 + 1},
		{"unchanged", src, nil, 4 + 2 + 2, 1 + 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ref := proxy.Host() + "/team/" + tc.name + ":v1"
			proxy.Reset()
			mu.Lock()
			cancelled = nil
			mu.Unlock()
			_, err := c.Push(ctx, ref, os.DirFS(tc.src), tc.opts...)
			testtree.Must(t, err)
			st := proxy.Stats()
			mu.Lock()
			gone := cancelled
			mu.Unlock()
			if len(gone) != tc.cancels {
				t.Errorf("%d upload sessions cancelled, want %d", len(gone), tc.cancels)
			}
			for _, loc := range gone {
				// The registry no longer knows a cancelled session.
				resp, err := http.Get(loc)
				testtree.Must(t, err)
				resp.Body.Close()
				if resp.StatusCode != http.StatusNotFound {
					t.Errorf("GET %s after its DELETE: %s, want 404", loc, resp.Status)
				}
			}
			if st.MountRequests != 2 || st.Mounts != 0 || st.UploadBytes != blobBytes {
				t.Errorf("%d mount requests, %d mounts, %d bytes uploaded; want 2 asked, none made, %d bytes uploaded",
					st.MountRequests, st.Mounts, st.UploadBytes, blobBytes)
			}
			if st.UploadRequests != tc.uploadRequests {
				t.Errorf("%d upload requests, want %d", st.UploadRequests, tc.uploadRequests)
			}
			pullAndCompare(t, ref, src)
		})
	}
}

// With token auth, mounting needs pull access to the repository mounted
// from: a user who has it mounts, one who has not uploads.
func TestMountWithTokenAuth(t *testing.T) {
	reg := registrytest.Start(t, registrytest.WithTokenAuth(registrytest.TokenAuth{
		Users:        map[string]string{"alice": alicePassword, "carol": "carol-pw"},
		Repositories: map[string][]string{"carol": {"carol/"}},
	}))
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	cacheDir := t.TempDir()
	src := newTree(t)
	aliceOpts := []blobber.Option{blobber.WithCredentials(auth.StaticCredential(proxy.Host(), alice))}
	asAlice := newClient(t, append(aliceOpts, blobber.WithCache(cacheDir))...)
	_, err := asAlice.Push(ctx, proxy.Host()+"/team/a:v1", os.DirFS(src))
	testtree.Must(t, err)

	proxy.Reset()
	ref := proxy.Host() + "/team/b:v1"
	_, err = asAlice.Push(ctx, ref, os.DirFS(newTree(t)))
	testtree.Must(t, err)
	wantAllMounted(t, proxy, "alice: ")
	pullAndCompare(t, ref, src, aliceOpts...)

	// The unchanged tree itself: its earlier layer is mounted without
	// building (a mount with no bytes to upload, upload.MountOnly), on a
	// token that covers pull on team/a too.
	proxy.Reset()
	ref = proxy.Host() + "/team/c:v1"
	_, err = asAlice.Push(ctx, ref, os.DirFS(src))
	testtree.Must(t, err)
	wantAllMounted(t, proxy, "alice, unchanged tree: ")
	pullAndCompare(t, ref, src, aliceOpts...)

	// The same cache, but carol may not pull from team/: the registry
	// refuses the mount, and the blobs are uploaded.
	carol := blobber.WithCredentials(auth.StaticCredential(proxy.Host(), auth.Credential{Username: "carol", Password: "carol-pw"}))
	proxy.Reset()
	ref = proxy.Host() + "/carol/tree:v1"
	_, err = newClient(t, carol, blobber.WithCache(cacheDir)).Push(ctx, ref, os.DirFS(newTree(t)))
	testtree.Must(t, err)
	if st := proxy.Stats(); st.MountRequests == 0 || st.Mounts != 0 || st.UploadBytes == 0 {
		t.Errorf("carol: %d mount requests, %d mounts, %d bytes uploaded; want mounts refused and an upload",
			st.MountRequests, st.Mounts, st.UploadBytes)
	}
	pullAndCompare(t, ref, src, carol)
}

// Only repositories of the target's registry are asked: the same registry
// behind another host name is another registry, and an OCI layout has no
// mounts.
func TestMountStaysOnTheRegistry(t *testing.T) {
	reg := registrytest.Start(t)
	here, there := reg.CountingProxy(t), reg.CountingProxy(t)
	ctx := context.Background()
	cacheDir := t.TempDir()
	c := newClient(t, blobber.WithCache(cacheDir))
	src := newTree(t)
	_, err := c.Push(ctx, there.Host()+"/team/a:v1", os.DirFS(src))
	testtree.Must(t, err)

	here.Reset()
	there.Reset()
	ref := here.Host() + "/team/b:v1"
	_, err = c.Push(ctx, ref, os.DirFS(newTree(t)))
	testtree.Must(t, err)
	if st := here.Stats(); st.MountRequests != 0 || st.UploadBytes == 0 {
		t.Errorf("%d mount requests, %d bytes uploaded: a source on another host was asked", st.MountRequests, st.UploadBytes)
	}
	if n := there.Stats().Requests; n != 0 {
		t.Errorf("%d requests to the other host", n)
	}
	pullAndCompare(t, ref, src)

	layout := filepath.Join(t.TempDir(), "layout") + ":v1"
	lc := newClient(t, blobber.WithCache(cacheDir), blobber.WithOCILayout())
	_, err = lc.Push(ctx, layout, os.DirFS(newTree(t)))
	testtree.Must(t, err)
	pullAndCompare(t, layout, src, blobber.WithOCILayout())
}

// wantAllMounted checks that the push proxy saw mounted both of an
// artifact's blobs (layer and config) and uploaded no byte; prefix starts
// the error.
func wantAllMounted(t *testing.T, proxy *registrytest.Proxy, prefix string) {
	t.Helper()
	if st := proxy.Stats(); st.UploadBytes != 0 || st.Mounts != 2 {
		t.Errorf("%suploaded %d bytes, mounted %d blobs; want 0 bytes, 2 mounts", prefix, st.UploadBytes, st.Mounts)
	}
}
