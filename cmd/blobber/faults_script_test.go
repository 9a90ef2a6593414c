package main

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/blobber-dev/blobber/internal/registrytest"
)

// TestFaultScripts runs testdata/faults/*.txtar, each against its own
// counting proxy ($FAULTY) in front of a real registry, whose faults the
// script sets with `fault NAME`: the CLI facing a broken or hostile
// registry.
func TestFaultScripts(t *testing.T) {
	reg := registrytest.Start(t)
	testscript.Run(t, testscript.Params{
		Dir: "testdata/faults",
		Setup: func(env *testscript.Env) error {
			proxy := reg.CountingProxy(t)
			env.Values[proxyKey{}] = proxy
			env.Setenv("FAULTY", proxy.Host())
			env.Setenv("DOCKER_CONFIG", env.WorkDir+"/.docker")
			env.Setenv("BLOBBER_CACHE_DIR", env.WorkDir+"/.cache/blobber")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"fault":       setFault,
			"proxy-count": proxyCount,
		},
	})
}

type proxyKey struct{}

func scriptProxy(ts *testscript.TestScript) *registrytest.Proxy {
	return ts.Value(proxyKey{}).(*registrytest.Proxy)
}

// faultsByName are the faults a script can set: what the proxy does to
// the requests that match.
var faultsByName = map[string]struct {
	match func(*http.Request) bool
	fault registrytest.Fault
}{
	"none":          {func(*http.Request) bool { return false }, registrytest.Fault{}},
	"content-range": {isRangedBlobGet, registrytest.Fault{ShiftRange: 1}},
	"manifest": {func(r *http.Request) bool {
		return r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/manifests/")
	}, registrytest.Fault{FlipFirstByte: true}},
	// Another manifest, its headers true to it.
	"other-manifest": {func(r *http.Request) bool {
		return r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/manifests/sha256:")
	}, registrytest.Fault{Status: http.StatusOK, Body: otherManifest, Header: http.Header{
		"Content-Type":          {"application/vnd.oci.image.manifest.v1+json"},
		"Docker-Content-Digest": {digest.FromBytes(otherManifest).String()},
	}}},
	"ignore-range": {isRangedBlobGet, registrytest.Fault{IgnoreRange: true}},
	"endless-pages": {func(r *http.Request) bool {
		return strings.HasSuffix(r.URL.Path, "/tags/list") || strings.Contains(r.URL.Path, "/referrers/sha256:")
	}, registrytest.Fault{EndlessPages: true}},
}

var otherManifest = []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}`)

func isRangedBlobGet(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/sha256:") && r.Header.Get("Range") != ""
}

// setFault makes the script's proxy misbehave as args[0] names, from now
// on, and zeroes its counts.
func setFault(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: fault NAME")
	}
	f, ok := faultsByName[args[0]]
	if !ok {
		ts.Fatalf("unknown fault %q", args[0])
	}
	proxy := scriptProxy(ts)
	proxy.SetFaults(func(r *http.Request) *registrytest.Fault {
		if f.match(r) {
			return &f.fault
		}
		return nil
	})
	proxy.Reset()
}

// proxyCount checks a count of the script's proxy since the last fault:
// proxy-count requests|blob-bytes <= N.
func proxyCount(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 || args[1] != "<=" {
		ts.Fatalf("usage: proxy-count requests|blob-bytes <= N")
	}
	limit, err := strconv.ParseInt(args[2], 10, 64)
	ts.Check(err)
	stats := scriptProxy(ts).Stats()
	var got int64
	switch args[0] {
	case "requests":
		got = stats.Requests
	case "blob-bytes":
		got = stats.BlobBytes
	default:
		ts.Fatalf("unknown count %q", args[0])
	}
	if got > limit {
		ts.Fatalf("%s: %d, more than %d", args[0], got, limit)
	}
	ts.Logf("%s: %d", args[0], got)
}
