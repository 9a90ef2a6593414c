package blobber_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	ta "github.com/blobber-dev/blobber/internal/testartifact"
	"github.com/blobber-dev/blobber/internal/testtree"
)

func randomBytes(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// servedTree is a tree with a small file, a big one of incompressible
// bytes, a directory with an index.html and one without.
func servedTree(t *testing.T, big []byte) string {
	src := t.TempDir()
	testtree.Write(t, src, map[string]string{
		"small.txt":          strings.Repeat("0123456789abcdef", 256), // 4 KiB
		"data.json":          `{"a": 1}`,
		"site/index.html":    "<h1>site</h1>",
		"docs/<b>&\"x\".txt": "escaped",
		"docs/plain.md":      "# plain",
		"link-to-small":      "-> small.txt",
	})
	if big != nil {
		testtree.Must(t, os.WriteFile(filepath.Join(src, "big.bin"), big, 0o644))
	}
	return src
}

// settled is the proxy's count once it stops moving: the proxy adds a
// response's bytes after writing them, which can be after the client has
// read them.
func settled(p *registrytest.Proxy) registrytest.Stats {
	last := p.Stats()
	for stable := 0; stable < 3; {
		time.Sleep(20 * time.Millisecond)
		if s := p.Stats(); s != last {
			last, stable = s, 0
			continue
		}
		stable++
	}
	return last
}

func get(t *testing.T, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	testtree.Must(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	testtree.Must(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	testtree.Must(t, err)
	return resp, body
}

// A GET of a 4 KiB file fetches at most its chunks on top of what opening
// the artifact (ls) read, and a Range request into a 32 MiB file only the
// chunks the range covers.
func TestServeFetchesOnlyWhatIsAsked(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	big := randomBytes(7, 32<<20)
	c := newClient(t)
	ref := proxy.Host() + "/serve/bytes:v1"
	_, err := c.Push(ctx, ref, os.DirFS(servedTree(t, big)), blobber.WithChunkSize(1<<20))
	testtree.Must(t, err)

	proxy.Reset()
	img, err := c.Open(ctx, ref)
	testtree.Must(t, err)
	defer img.Close()
	opened := settled(proxy).BlobBytes
	srv := httptest.NewServer(img.Handler())
	defer srv.Close()
	if s := settled(proxy); s.BlobBytes != opened {
		t.Fatalf("the handler fetched %d bytes before any request", s.BlobBytes-opened)
	}

	resp, body := get(t, srv.URL+"/small.txt")
	if resp.StatusCode != http.StatusOK || string(body) != strings.Repeat("0123456789abcdef", 256) {
		t.Fatalf("GET small.txt: %s, %d bytes", resp.Status, len(body))
	}
	small := blobber.CoveredChunkBytes(img, "small.txt", 0, 4096)
	if got := settled(proxy).BlobBytes; got > opened+small {
		t.Fatalf("open and GET of 4 KiB read %d blob bytes, want at most %d (open) + %d (its chunk)", got, opened, small)
	}

	for _, rg := range []struct{ start, end int64 }{
		{10<<20 + 12345, 10<<20 + 12345 + 100<<10}, // inside one chunk
		{5<<20 - 10, 7<<20 + 10},                   // across four
		{32<<20 - 1000, 32 << 20},                  // the end
	} {
		settled(proxy)
		proxy.Reset()
		resp, body = get(t, srv.URL+"/big.bin", "Range", fmt.Sprintf("bytes=%d-%d", rg.start, rg.end-1))
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, big[rg.start:rg.end]) {
			t.Fatalf("Range %d-%d: %s, %d bytes, equal %v", rg.start, rg.end-1, resp.Status, len(body), bytes.Equal(body, big[rg.start:rg.end]))
		}
		want := blobber.CoveredChunkBytes(img, "big.bin", rg.start, rg.end)
		if got := settled(proxy).BlobBytes; got == 0 || got > want {
			t.Fatalf("Range %d-%d read %d blob bytes, want at most %d (the chunks it covers)", rg.start, rg.end-1, got, want)
		}
	}

	// Two ranges: their chunks, not those between.
	settled(proxy)
	proxy.Reset()
	resp, body = get(t, srv.URL+"/big.bin", "Range", "bytes=100-199,20000000-20000099")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Contains(body, big[100:200]) || !bytes.Contains(body, big[20000000:20000100]) {
		t.Fatalf("two ranges: %s, %d bytes", resp.Status, len(body))
	}
	want := blobber.CoveredChunkBytes(img, "big.bin", 100, 200) + blobber.CoveredChunkBytes(img, "big.bin", 20000000, 20000100)
	if got := settled(proxy).BlobBytes; got > want {
		t.Fatalf("two ranges read %d blob bytes, want at most %d", got, want)
	}

	// The whole file, for good measure.
	resp, body = get(t, srv.URL+"/big.bin")
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, big) {
		t.Fatalf("GET big.bin: %s, %d bytes", resp.Status, len(body))
	}
}

func TestServeHeaders(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	c := newClient(t)
	src := servedTree(t, nil)
	mtime := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	testtree.Must(t, os.Chtimes(filepath.Join(src, "small.txt"), mtime, mtime))
	ref := proxy.Host() + "/serve/headers"
	_, err := c.Push(ctx, ref+":plain", os.DirFS(src))
	testtree.Must(t, err)
	_, err = c.Push(ctx, ref+":times", os.DirFS(src), blobber.WithKeepModTimes())
	testtree.Must(t, err)

	img, err := c.Open(ctx, ref+":plain")
	testtree.Must(t, err)
	defer img.Close()
	srv := httptest.NewServer(img.Handler())
	defer srv.Close()

	dg, ok := img.FileDigest("small.txt")
	if !ok {
		t.Fatal("no digest for small.txt")
	}
	resp, _ := get(t, srv.URL+"/small.txt")
	etag := resp.Header.Get("ETag")
	if etag != `"`+dg.String()+`"` {
		t.Fatalf("ETag %s, want the file's digest %q", etag, dg)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Fatalf("Content-Type of .txt: %q", ct)
	}
	if lm := resp.Header.Get("Last-Modified"); lm != "" {
		t.Fatalf("Last-Modified %q for a push that recorded no times", lm)
	}
	if resp, _ := get(t, srv.URL+"/data.json"); resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("Content-Type of .json: %q", resp.Header.Get("Content-Type"))
	}

	settled(proxy)
	proxy.Reset()
	resp, body := get(t, srv.URL+"/small.txt", "If-None-Match", etag)
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Fatalf("If-None-Match with the ETag: %s, %d bytes", resp.Status, len(body))
	}
	if s := settled(proxy); s.BlobBytes != 0 {
		t.Fatalf("a 304 fetched %d blob bytes", s.BlobBytes)
	}
	if resp, _ := get(t, srv.URL+"/small.txt", "If-None-Match", `"sha256:other"`); resp.StatusCode != http.StatusOK {
		t.Fatalf("If-None-Match with another ETag: %s", resp.Status)
	}
	if resp, body := get(t, srv.URL+"/small.txt", "Range", "bytes=0-9", "If-Range", etag); resp.StatusCode != http.StatusPartialContent || string(body) != "0123456789" {
		t.Fatalf("If-Range with the ETag: %s %q", resp.Status, body)
	}
	if resp, body := get(t, srv.URL+"/small.txt", "Range", "bytes=0-9", "If-Range", `"sha256:other"`); resp.StatusCode != http.StatusOK || len(body) != 4096 {
		t.Fatalf("If-Range with another ETag: %s, %d bytes", resp.Status, len(body))
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/small.txt", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %v %v", resp, err)
	}

	timed, err := c.Open(ctx, ref+":times")
	testtree.Must(t, err)
	defer timed.Close()
	srv2 := httptest.NewServer(timed.Handler())
	defer srv2.Close()
	resp, _ = get(t, srv2.URL+"/small.txt")
	if lm := resp.Header.Get("Last-Modified"); lm != mtime.Format(http.TimeFormat) {
		t.Fatalf("Last-Modified %q, want %q", lm, mtime.Format(http.TimeFormat))
	}
	resp, _ = get(t, srv2.URL+"/small.txt", "If-Modified-Since", mtime.Format(http.TimeFormat))
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("If-Modified-Since the mtime: %s", resp.Status)
	}
}

func TestServeDirectories(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	c := newClient(t)
	ref := reg.Host() + "/serve/dirs:v1"
	_, err := c.Push(ctx, ref, os.DirFS(servedTree(t, nil)))
	testtree.Must(t, err)
	img, err := c.Open(ctx, ref)
	testtree.Must(t, err)
	defer img.Close()
	srv := httptest.NewServer(img.Handler())
	defer srv.Close()

	resp, body := get(t, srv.URL+"/docs/")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("listing: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	listing := string(body)
	for _, want := range []string{`<a href="./%3Cb%3E&amp;%22x%22.txt">&lt;b&gt;&amp;&#34;x&#34;.txt</a>`, `<a href="./plain.md">plain.md</a>`, `<a href="../">`} {
		if !strings.Contains(listing, want) {
			t.Fatalf("listing lacks %s:\n%s", want, listing)
		}
	}
	if strings.Contains(listing, "<b>") {
		t.Fatalf("listing holds a name unescaped:\n%s", listing)
	}
	if resp, body := get(t, srv.URL+"/docs/%3Cb%3E&%22x%22.txt"); resp.StatusCode != http.StatusOK || string(body) != "escaped" {
		t.Fatalf("GET of the odd name: %s %q", resp.Status, body)
	}
	if resp, _ := get(t, srv.URL+"/docs"); resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "docs/" {
		t.Fatalf("directory without slash: %s, Location %q", resp.Status, resp.Header.Get("Location"))
	}
	if resp, body := get(t, srv.URL+"/site/"); resp.StatusCode != http.StatusOK || string(body) != "<h1>site</h1>" {
		t.Fatalf("directory with index.html: %s %q", resp.Status, body)
	}
	if resp, _ := get(t, srv.URL+"/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("root listing: %s", resp.Status)
	}
	if resp, _ := get(t, srv.URL+"/nope"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("missing file: %s", resp.Status)
	}

	quiet := httptest.NewServer(img.Handler(blobber.WithoutListing()))
	defer quiet.Close()
	if resp, body := get(t, quiet.URL+"/docs/"); resp.StatusCode != http.StatusForbidden || strings.Contains(string(body), "plain.md") {
		t.Fatalf("listing disabled: %s %q", resp.Status, body)
	}
	if resp, body := get(t, quiet.URL+"/site/"); resp.StatusCode != http.StatusOK || string(body) != "<h1>site</h1>" {
		t.Fatalf("listing disabled, index.html: %s %q", resp.Status, body)
	}
}

// Symlinks are followed inside the artifact; one that leads out of it is
// refused (403), whatever the request's path.
func TestServeSymlinks(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	blob, tocDigest, diffID, err := ta.EStargz(ta.Tar(
		ta.Dir("d"),
		ta.File("d/a.txt", "inside", 0o644),
		ta.Symlink("in", "d/a.txt"),
		ta.Symlink("dir", "d"),
		ta.Symlink("d/up", "../d/a.txt"),
		ta.Symlink("out", "../../etc/passwd"),
		ta.Symlink("abs", "/etc/passwd"),
		ta.Symlink("d/out", "../.."),
	))
	testtree.Must(t, err)
	repo, ref := hostileRepo(t, reg.Host(), "serve-links")
	_, err = ta.Push(ctx, repo, "v1", blob, tocDigest, diffID)
	testtree.Must(t, err)
	c := newClient(t)
	img, err := c.Open(ctx, ref+":v1")
	testtree.Must(t, err)
	defer img.Close()
	srv := httptest.NewServer(img.Handler())
	defer srv.Close()

	for _, p := range []string{"/in", "/dir/a.txt", "/d/up"} {
		if resp, body := get(t, srv.URL+p); resp.StatusCode != http.StatusOK || string(body) != "inside" {
			t.Fatalf("GET %s: %s %q", p, resp.Status, body)
		}
	}
	for _, p := range []string{"/out", "/abs", "/d/out/etc/passwd", "/d/out/"} {
		if resp, body := get(t, srv.URL+p); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("GET %s: %s %q, want 403", p, resp.Status, body)
		}
	}
}

// A chunk that does not verify gives 502 while no status has been sent,
// and aborts the response after: the client never gets bad bytes as if
// they were the file.
func TestServeCorruptChunk(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	big := randomBytes(9, 4<<20)
	c := newClient(t, blobber.WithRetries(-1))
	ref := proxy.Host() + "/serve/corrupt:v1"
	_, err := c.Push(ctx, ref, os.DirFS(servedTree(t, big)), blobber.WithChunkSize(256<<10))
	testtree.Must(t, err)
	img, err := c.Open(ctx, ref)
	testtree.Must(t, err)
	defer img.Close()
	srv := httptest.NewServer(img.Handler())
	defer srv.Close()

	proxy.SetFaults(func(r *http.Request) *registrytest.Fault {
		if strings.Contains(r.URL.Path, "/blobs/") {
			return &registrytest.Fault{FlipFirstByte: true}
		}
		return nil
	})
	resp, body := get(t, srv.URL+"/small.txt")
	if resp.StatusCode != http.StatusBadGateway || strings.Contains(string(body), "0123456789abcdef") {
		t.Fatalf("corrupt first chunk: %s %q", resp.Status, body)
	}

	// The first chunk is good, a later one is not: the status is out, so
	// the response is cut short of its length.
	var blobGets atomic.Int64
	proxy.SetFaults(func(r *http.Request) *registrytest.Fault {
		if strings.Contains(r.URL.Path, "/blobs/") && blobGets.Add(1) > 1 {
			return &registrytest.Fault{FlipFirstByte: true}
		}
		return nil
	})
	r, err := http.Get(srv.URL + "/big.bin")
	testtree.Must(t, err)
	defer r.Body.Close()
	got, err := io.ReadAll(r.Body)
	if r.StatusCode != http.StatusOK || err == nil || int64(len(got)) >= r.ContentLength {
		t.Fatalf("corrupt later chunk: %s, %d of %d bytes, error %v", r.Status, len(got), r.ContentLength, err)
	}
	if !bytes.Equal(got, big[:len(got)]) {
		t.Fatal("bytes served before the corrupt chunk differ from the file's")
	}
}

// A client that goes away in the middle of a response of several ranges
// (which ServeContent writes from a goroutine of its own) leaves the
// handler serving the next request; under -race, without a data race.
func TestServeClientGoesAwayMidRanges(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	big := randomBytes(13, 8<<20)
	c := newClient(t)
	ref := reg.Host() + "/serve/away:v1"
	_, err := c.Push(ctx, ref, os.DirFS(servedTree(t, big)), blobber.WithChunkSize(256<<10))
	testtree.Must(t, err)
	img, err := c.Open(ctx, ref)
	testtree.Must(t, err)
	defer img.Close()
	srv := httptest.NewServer(img.Handler())
	defer srv.Close()
	for range 3 {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/big.bin", nil)
		req.Header.Set("Range", "bytes=0-3000000,4000000-7000000,7500000-")
		resp, err := http.DefaultClient.Do(req)
		testtree.Must(t, err)
		one := make([]byte, 1)
		_, err = io.ReadFull(resp.Body, one)
		testtree.Must(t, err)
		resp.Body.Close()
	}
	if resp, body := get(t, srv.URL+"/big.bin", "Range", "bytes=5-9"); resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, big[5:10]) {
		t.Fatalf("after clients went away: %s %q", resp.Status, body)
	}
}
