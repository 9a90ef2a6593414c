package registrytest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"
)

func newRepo(t *testing.T, host string) *remote.Repository {
	t.Helper()
	repo, err := remote.NewRepository(host + "/test/repo")
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	return repo
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// pushBlob pushes data as a layer blob and returns its descriptor.
func pushBlob(t *testing.T, repo *remote.Repository, data []byte) ocispec.Descriptor {
	t.Helper()
	desc := content.NewDescriptorFromBytes(ocispec.MediaTypeImageLayer, data)
	if err := repo.Push(context.Background(), desc, bytes.NewReader(data)); err != nil {
		t.Fatalf("push blob: %v", err)
	}
	return desc
}

func TestPushFetchThroughProxy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reg := Start(t)
	proxy := reg.CountingProxy(t)
	repo := newRepo(t, proxy.Host())

	blob := randomBytes(t, 64*1024)
	layer := pushBlob(t, repo, blob)
	manifest, err := oras.PackManifest(ctx, repo, oras.PackManifestVersion1_1,
		"application/vnd.blobber.test", oras.PackManifestOptions{Layers: []ocispec.Descriptor{layer}})
	if err != nil {
		t.Fatalf("pack manifest: %v", err)
	}
	if err := repo.Tag(ctx, manifest, "v1"); err != nil {
		t.Fatalf("tag: %v", err)
	}

	st := proxy.Stats()
	t.Logf("after push: %+v", st)
	if st.UploadRequests == 0 || st.UploadBytes < int64(len(blob)) {
		t.Errorf("upload counters too low: %+v (blob is %d bytes)", st, len(blob))
	}
	if st.ManifestRequests == 0 {
		t.Errorf("no manifest requests counted: %+v", st)
	}

	proxy.Reset()
	if st := proxy.Stats(); st != (Stats{}) {
		t.Fatalf("Reset left %+v", st)
	}

	// Resolve the tag and read the blob back, as a client would.
	got, err := repo.Resolve(ctx, "v1")
	if err != nil {
		t.Fatalf("resolve: %v", err)
	}
	if got.Digest != manifest.Digest {
		t.Fatalf("resolved %s, want %s", got.Digest, manifest.Digest)
	}
	data, err := content.FetchAll(ctx, repo, layer)
	if err != nil {
		t.Fatalf("fetch blob: %v", err)
	}
	if !bytes.Equal(data, blob) {
		t.Fatal("fetched blob differs from pushed blob")
	}

	st = proxy.Stats()
	t.Logf("after fetch: %+v", st)
	if st.BlobRequests == 0 {
		t.Errorf("no blob requests counted: %+v", st)
	}
	if st.BlobBytes != int64(len(blob)) {
		t.Errorf("BlobBytes = %d, want %d", st.BlobBytes, len(blob))
	}
	if st.ManifestRequests == 0 || st.UploadRequests != 0 || st.UploadBytes != 0 {
		t.Errorf("unexpected counters after fetch: %+v", st)
	}
}

func TestRangedBlobGetIsCountedByBytesSent(t *testing.T) {
	t.Parallel()
	reg := Start(t)
	proxy := reg.CountingProxy(t)
	desc := pushBlob(t, newRepo(t, reg.Host()), randomBytes(t, 1<<20))

	req, err := http.NewRequest(http.MethodGet, proxy.URL()+"/v2/test/repo/blobs/"+desc.Digest.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Range", "bytes=0-9")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusPartialContent || len(body) != 10 {
		t.Fatalf("got %s with %d bytes, want 206 with 10 bytes", resp.Status, len(body))
	}
	if st := proxy.Stats(); st.BlobRequests != 1 || st.BlobBytes != 10 {
		t.Errorf("stats = %+v, want 1 blob request and 10 bytes", st)
	}
}

func TestEarlyCloseIsNotChargedForUnreadBytes(t *testing.T) {
	t.Parallel()
	reg := Start(t)
	// Larger than loopback socket buffers, which absorb a few MiB.
	const size = 16 << 20
	desc := pushBlob(t, newRepo(t, reg.Host()), randomBytes(t, size))

	proxy := reg.CountingProxy(t)
	resp, err := http.Get(proxy.URL() + "/v2/test/repo/blobs/" + desc.Digest.String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close() // unread body: the client drops the connection

	// Closing the proxy waits for the in-flight handler to finish.
	proxy.Close()
	if st := proxy.Stats(); st.BlobBytes >= size {
		t.Errorf("BlobBytes = %d, want less than the %d byte blob", st.BlobBytes, size)
	} else {
		t.Logf("charged %d of %d bytes", st.BlobBytes, size)
	}
}

// TestUploadLocationPointsAtProxy checks that upload sessions continue
// through the proxy: Distribution derives Location from the request's Host
// (or X-Forwarded-Host), which the proxy passes through.
func TestUploadLocationPointsAtProxy(t *testing.T) {
	t.Parallel()
	reg := Start(t)
	proxy := reg.CountingProxy(t)

	startUpload := func(base, host string) *url.URL {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, base+"/v2/test/repo/blobs/uploads/", nil)
		if err != nil {
			t.Fatal(err)
		}
		if host != "" {
			req.Host = host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("POST upload: %s", resp.Status)
		}
		loc, err := resp.Location()
		if err != nil {
			t.Fatalf("Location: %v", err)
		}
		return loc
	}

	// Distribution itself echoes the Host header.
	if loc := startUpload(reg.URL(), "example.invalid:1234"); loc.Host != "example.invalid:1234" {
		t.Errorf("direct upload Location host = %q, want the request Host", loc.Host)
	}
	if loc := startUpload(proxy.URL(), ""); loc.Host != proxy.Host() {
		t.Errorf("proxied upload Location = %s, want host %s", loc, proxy.Host())
	}
	if st := proxy.Stats(); st.UploadRequests != 1 {
		t.Errorf("UploadRequests = %d, want 1", st.UploadRequests)
	}
}

// TestChunkedUpload drives a chunked upload by hand through the proxy,
// following Location headers, and checks what the proxy counted.
func TestChunkedUpload(t *testing.T) {
	t.Parallel()
	reg := Start(t)
	proxy := reg.CountingProxy(t)
	blob := randomBytes(t, 300*1024)
	desc := content.NewDescriptorFromBytes(ocispec.MediaTypeImageLayer, blob)

	do := func(method, target string, body []byte, hdr ...string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, target, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	next := func(resp *http.Response, want int) string {
		t.Helper()
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %s, want %d", resp.Request.Method, resp.Request.URL, resp.Status, want)
		}
		loc, err := resp.Location()
		if err != nil {
			t.Fatal(err)
		}
		if loc.Host != proxy.Host() {
			t.Fatalf("Location %s bypasses the proxy", loc)
		}
		return loc.String()
	}

	loc := next(do(http.MethodPost, proxy.URL()+"/v2/test/repo/blobs/uploads/", nil), http.StatusAccepted)
	for off := 0; off < len(blob); off += 100 * 1024 {
		chunk := blob[off : off+100*1024]
		resp := do(http.MethodPatch, loc, chunk,
			"Content-Type", "application/octet-stream",
			"Content-Range", fmt.Sprintf("%d-%d", off, off+len(chunk)-1))
		loc = next(resp, http.StatusAccepted)
		if want := fmt.Sprintf("0-%d", off+len(chunk)-1); resp.Header.Get("Range") != want {
			t.Fatalf("Range after chunk = %q, want %q", resp.Header.Get("Range"), want)
		}
	}
	u, _ := url.Parse(loc)
	q := u.Query()
	q.Set("digest", desc.Digest.String())
	u.RawQuery = q.Encode()
	next(do(http.MethodPut, u.String(), nil), http.StatusCreated)

	st := proxy.Stats()
	if st.UploadRequests != 5 || st.UploadBytes != int64(len(blob)) {
		t.Errorf("stats = %+v, want 5 upload requests and %d bytes", st, len(blob))
	}
	got, err := content.FetchAll(context.Background(), newRepo(t, proxy.Host()), desc)
	if err != nil || !bytes.Equal(got, blob) {
		t.Fatalf("fetch after chunked upload: equal=%v err=%v", bytes.Equal(got, blob), err)
	}
}

// TestRewriteLocation covers registries that build Locations from their own
// address (e.g. with http.host set) rather than the request Host.
func TestRewriteLocation(t *testing.T) {
	target, _ := url.Parse("http://127.0.0.1:5000")
	p := &Proxy{target: target, host: "127.0.0.1:6000"}
	for in, want := range map[string]string{
		"http://127.0.0.1:5000/v2/r/blobs/uploads/u?_state=x": "http://127.0.0.1:6000/v2/r/blobs/uploads/u?_state=x",
		"http://127.0.0.1:6000/v2/r/blobs/uploads/u":          "http://127.0.0.1:6000/v2/r/blobs/uploads/u",
		"/v2/r/blobs/uploads/u":                               "/v2/r/blobs/uploads/u",
		"https://cdn.example/blob":                            "https://cdn.example/blob",
	} {
		resp := &http.Response{Header: http.Header{"Location": {in}}}
		if err := p.rewriteLocation(resp); err != nil {
			t.Fatal(err)
		}
		if got := resp.Header.Get("Location"); got != want {
			t.Errorf("rewrite(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFilesystemStorage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	reg := Start(t, WithFilesystem(dir))
	other := Start(t) // several registries can run in one process
	if reg.Host() == other.Host() {
		t.Fatal("two registries share a host")
	}

	desc := pushBlob(t, newRepo(t, reg.Host()), []byte("hello, filesystem"))
	hex := desc.Digest.Encoded()
	path := filepath.Join(dir, "docker/registry/v2/blobs/sha256", hex[:2], hex, "data")
	if _, err := os.Stat(path); err != nil {
		t.Errorf("blob not stored on disk: %v", err)
	}
	if exists, err := newRepo(t, other.Host()).Exists(context.Background(), desc); err != nil || exists {
		t.Errorf("blob visible in the other registry: exists=%v err=%v", exists, err)
	}
}

func TestStartServerClose(t *testing.T) {
	t.Parallel()
	reg, err := StartServer()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(reg.URL() + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v2/: %s", resp.Status)
	}
	reg.Close()
	reg.Close() // idempotent
	if _, err := http.Get(reg.URL() + "/v2/"); err == nil {
		t.Error("registry still answering after Close")
	}
}

// TestMountIsCounted: a cross-repository mount through the proxy is
// counted, and the NoMount fault makes the registry open an upload
// session instead.
func TestMountIsCounted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reg := Start(t)
	proxy := reg.CountingProxy(t)
	desc := pushBlob(t, newRepo(t, proxy.Host()), randomBytes(t, 1024)) // into test/repo
	other := func(name string) *remote.Repository {
		repo, err := remote.NewRepository(proxy.Host() + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		repo.PlainHTTP = true
		return repo
	}
	notMounted := errors.New("not mounted")
	noContent := func() (io.ReadCloser, error) { return nil, notMounted }

	proxy.Reset()
	if err := other("test/mounted").Mount(ctx, desc, "test/repo", noContent); err != nil {
		t.Fatalf("mount: %v", err)
	}
	if st := proxy.Stats(); st.MountRequests != 1 || st.Mounts != 1 || st.UploadBytes != 0 {
		t.Errorf("after a mount: %+v", st)
	}

	proxy.SetFaults(func(*http.Request) *Fault { return &Fault{NoMount: true} })
	proxy.Reset()
	if err := other("test/refused").Mount(ctx, desc, "test/repo", noContent); !errors.Is(err, notMounted) {
		t.Fatalf("mount through NoMount: %v, want the registry to ask for the content", err)
	}
	if st := proxy.Stats(); st.MountRequests != 1 || st.Mounts != 0 {
		t.Errorf("after a refused mount: %+v", st)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		path string
		want requestKind
	}{
		{"/v2/", kindOther},
		{"/v2/_catalog", kindOther},
		{"/v2/a/b/tags/list", kindOther},
		{"/v2/a/blobs/sha256:abc", kindBlob},
		{"/v2/a/b/c/blobs/sha256:abc", kindBlob},
		{"/v2/a/manifests/latest", kindManifest},
		{"/v2/a/manifests/sha256:abc", kindManifest},
		{"/v2/blobs/manifests/v1", kindManifest},
		{"/v2/a/blobs/uploads/", kindUpload},
		{"/v2/a/blobs/uploads", kindUpload},
		{"/v2/a/b/blobs/uploads/0f3c-uuid", kindUpload},
		{"/v2/uploads/blobs/sha256:abc", kindBlob},
		{"/other/a/blobs/sha256:abc", kindOther},
	}
	for _, tt := range tests {
		if got := classify(tt.path); got != tt.want {
			t.Errorf("classify(%q) = %d, want %d", tt.path, got, tt.want)
		}
	}
}

// TestProxyKeepsRegistryConnections checks that the proxy reuses its
// connections to the registry when a client has several requests in
// flight, as blobber's pull does: with http.DefaultTransport's two idle
// connections per host it closed the others after each round and dialed
// again, work that no deployment does and that a benchmark would count.
func TestProxyKeepsRegistryConnections(t *testing.T) {
	t.Parallel()
	reg := Start(t)
	proxy := reg.CountingProxy(t)
	// Big enough that a response cannot sit whole in socket buffers: each
	// request holds its connection to the registry until it is read.
	desc := pushBlob(t, newRepo(t, reg.Host()), randomBytes(t, 16<<20))
	var dials atomic.Int64
	dial := proxy.tr.DialContext
	proxy.tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return dial(ctx, network, addr)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	defer client.CloseIdleConnections()
	const inFlight, rounds = 4, 3
	for range rounds {
		var started, done sync.WaitGroup
		started.Add(inFlight)
		release := make(chan struct{})
		errs := make(chan error, inFlight)
		for range inFlight {
			done.Go(func() {
				resp, err := client.Get(proxy.URL() + "/v2/test/repo/blobs/" + desc.Digest.String())
				started.Done()
				if err != nil {
					errs <- err
					return
				}
				defer resp.Body.Close()
				<-release // every request in flight before any is read
				if n, err := io.Copy(io.Discard, resp.Body); err != nil || n != desc.Size {
					errs <- fmt.Errorf("read %d of %d bytes: %v", n, desc.Size, err)
				}
			})
		}
		started.Wait()
		close(release)
		done.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	if n := dials.Load(); n > inFlight {
		t.Errorf("the proxy dialed the registry %d times for %d rounds of %d requests in flight, want at most %d", n, rounds, inFlight, inFlight)
	}
}
