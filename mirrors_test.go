package blobber_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// mirrorSetup is an origin registry and a mirror of it, each behind a
// counting proxy; clients reach the origin as origin.Host().
type mirrorSetup struct {
	src            string
	origin, mirror *registrytest.Proxy
	originReg      *registrytest.Registry
	mirrorReg      *registrytest.Registry
	ref            string // the artifact, named on the origin's proxy
}

// newMirrorSetup pushes the same tree to the origin and, when filled, to
// the mirror (a pull-through cache that has already seen it): pushes are
// reproducible, so both hold the same digests.
func newMirrorSetup(t *testing.T, filled bool) *mirrorSetup {
	t.Helper()
	s := &mirrorSetup{src: faultTree(t), originReg: registrytest.Start(t), mirrorReg: registrytest.Start(t)}
	s.origin, s.mirror = s.originReg.CountingProxy(t), s.mirrorReg.CountingProxy(t)
	ctx := context.Background()
	_, err := newClient(t).Push(ctx, s.originReg.Host()+"/team/tree:v1", os.DirFS(s.src))
	testtree.Must(t, err)
	if filled {
		_, err = newClient(t).Push(ctx, s.mirrorReg.Host()+"/team/tree:v1", os.DirFS(s.src))
		testtree.Must(t, err)
	}
	s.ref = s.origin.Host() + "/team/tree:v1"
	return s
}

func (s *mirrorSetup) client(t *testing.T, opts ...blobber.Option) *blobber.Client {
	t.Helper()
	mirrored := blobber.WithRegistry(s.origin.Host(), blobber.RegistrySettings{Mirrors: []string{s.mirror.Host()}})
	return newClient(t, append(opts, mirrored)...)
}

// pullAndCat pulls the artifact and reads one file of it, and checks both.
func (s *mirrorSetup) pullAndCat(t *testing.T, c *blobber.Client) {
	t.Helper()
	ctx := context.Background()
	dst := filepath.Join(t.TempDir(), "out")
	_, err := c.Pull(ctx, s.ref, dst)
	testtree.Must(t, err)
	testtree.Equal(t, s.src, dst)
	img, err := c.Open(ctx, s.ref)
	testtree.Must(t, err)
	defer img.Close()
	var out bytes.Buffer
	_, err = img.WriteFileTo(&out, "small.txt")
	testtree.Must(t, err)
	if out.String() != "small\n" {
		t.Fatalf("cat gave %q", out.String())
	}
}

func blobGets(match func(*http.Request) bool, fault registrytest.Fault) registrytest.FaultFunc {
	return func(r *http.Request) *registrytest.Fault {
		if match(r) {
			return &fault
		}
		return nil
	}
}

func isMirrorManifestGet(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/manifests/")
}

// A mirror that holds the artifact serves every read: the origin sees
// no request at all, neither for the tag nor for a byte of the layer.
func TestMirrorServesReads(t *testing.T) {
	for _, cached := range []bool{false, true} {
		t.Run(map[bool]string{false: "no cache", true: "cache"}[cached], func(t *testing.T) {
			s := newMirrorSetup(t, true)
			var opts []blobber.Option
			if cached {
				opts = append(opts, blobber.WithCache(t.TempDir()))
			}
			s.pullAndCat(t, s.client(t, opts...))
			if got := s.origin.Stats(); got.Requests != 0 {
				t.Errorf("the origin saw %d requests (%d for manifests, %d for blobs); the mirror should have served them all", got.Requests, got.ManifestRequests, got.BlobRequests)
			}
			if got := s.mirror.Stats(); got.ManifestRequests == 0 || got.BlobBytes == 0 {
				t.Errorf("the mirror served %d manifest requests and %d blob bytes", got.ManifestRequests, got.BlobBytes)
			}
		})
	}
}

// A mirror that lacks the artifact, lacks its layer, or cannot be reached
// is passed over for the origin.
func TestMirrorFallsBackToOrigin(t *testing.T) {
	t.Run("artifact missing", func(t *testing.T) {
		s := newMirrorSetup(t, false)
		s.pullAndCat(t, s.client(t))
		if s.mirror.Stats().ManifestRequests == 0 {
			t.Error("the mirror was not asked")
		}
		if s.origin.Stats().BlobBytes == 0 {
			t.Error("the origin served no blob bytes")
		}
	})
	t.Run("layer missing", func(t *testing.T) {
		s := newMirrorSetup(t, true)
		s.mirror.SetFaults(blobGets(isBlobGet, registrytest.Fault{Status: http.StatusNotFound, Body: []byte(`{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}`)}))
		s.pullAndCat(t, s.client(t))
		if got := s.origin.Stats(); got.ManifestRequests != 0 || got.BlobBytes == 0 {
			t.Errorf("the origin served %d manifest requests and %d blob bytes; want the blobs only", got.ManifestRequests, got.BlobBytes)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		s := newMirrorSetup(t, true)
		s.mirror.Close()
		s.pullAndCat(t, s.client(t))
		if s.origin.Stats().BlobBytes == 0 {
			t.Error("the origin served no blob bytes")
		}
	})
}

// Bytes from a mirror that do not match their digest are never accepted:
// the mirror is passed over and the origin's bytes read instead.
func TestMirrorWrongBytesFallBackToOrigin(t *testing.T) {
	for name, match := range map[string]func(*http.Request) bool{"manifest": isMirrorManifestGet, "layer": isBlobGet} {
		for _, cached := range []bool{false, true} {
			t.Run(name+map[bool]string{false: "", true: " cached"}[cached], func(t *testing.T) {
				s := newMirrorSetup(t, true)
				s.mirror.SetFaults(blobGets(match, registrytest.Fault{FlipFirstByte: true}))
				var opts []blobber.Option
				if cached {
					opts = append(opts, blobber.WithCache(t.TempDir()))
				}
				s.pullAndCat(t, s.client(t, opts...))
				got := s.origin.Stats()
				if name == "manifest" && got.ManifestRequests == 0 {
					t.Error("the origin was not asked for the manifest")
				}
				if name == "layer" && got.BlobBytes == 0 {
					t.Error("the origin served no blob bytes")
				}
			})
		}
	}
}

// Pushes go to the origin only: the mirror sees no request, whether the
// push uploads or finds everything already there.
func TestPushNeverTouchesMirror(t *testing.T) {
	s := newMirrorSetup(t, true)
	c := s.client(t, blobber.WithCache(t.TempDir()))
	ctx := context.Background()
	for _, ref := range []string{s.origin.Host() + "/team/new:v1", s.origin.Host() + "/team/new:v2", s.ref} {
		_, err := c.Push(ctx, ref, os.DirFS(s.src))
		testtree.Must(t, err)
	}
	if got := s.mirror.Stats(); got.Requests != 0 {
		t.Errorf("the mirror saw %d requests during pushes", got.Requests)
	}
	if s.origin.Stats().ManifestRequests == 0 {
		t.Error("the origin saw no manifest request")
	}
}

func TestWithRegistryRefusesBadSettings(t *testing.T) {
	for name, s := range map[string]blobber.RegistrySettings{
		"cert without key": {CertFile: "c.pem"},
		"own mirror":       {Mirrors: []string{"r.example:5000"}},
		"bad mirror name":  {Mirrors: []string{"http://m.example"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := blobber.NewClient(blobber.WithRegistry("r.example:5000", s))
			if !errorsIsInvalidOption(err) {
				t.Fatalf("NewClient = %v, want ErrInvalidOption", err)
			}
		})
	}
}

func errorsIsInvalidOption(err error) bool { return errors.Is(err, blobber.ErrInvalidOption) }
