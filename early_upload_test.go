package blobber_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// gatedFS serves a directory, but a read of the file gated waits until
// open() says so (for ten seconds at most, then it fails with errGate); a
// nil open fails it at once.
type gatedFS struct {
	fs.FS
	gated string
	open  func() bool
}

var errGate = errors.New("the gate did not open")

func (g gatedFS) Open(name string) (fs.File, error) {
	f, err := g.FS.Open(name)
	if err != nil || name != g.gated {
		return f, err
	}
	return &gatedFile{File: f, open: g.open}, nil
}

type gatedFile struct {
	fs.File
	open func() bool
}

func (f *gatedFile) Read(p []byte) (int, error) {
	if f.open == nil {
		return 0, errGate
	}
	for deadline := time.Now().Add(10 * time.Second); !f.open(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			return 0, errGate
		}
	}
	return f.File.Read(p)
}

// earlyTree writes a tree of two files of random bytes: first.bin, of
// several chunks, and last.bin.
func earlyTree(t *testing.T) string {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(3, 4))
	for name, size := range map[string]int{"first.bin": 9 << 20, "last.bin": 1 << 20} {
		b := make([]byte, size)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		testtree.Must(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
	}
	return dir
}

// A push to a new tag uploads the layer while building it: the registry
// receives the first file's bytes before the last file is read. (In 1 MiB
// chunks here: the default, 64 MiB, is more than this tree.)
func TestPushUploadsWhileBuilding(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	src := earlyTree(t)
	uploading := func() bool { return proxy.Stats().UploadBytes > 0 }
	ref := proxy.Host() + "/early/tree:v1"
	_, err := newClient(t).Push(ctx, ref, gatedFS{FS: os.DirFS(src), gated: "last.bin", open: uploading}, blobber.WithUploadChunkSize(1<<20))
	if errors.Is(err, errGate) {
		t.Fatal("nothing was uploaded before the build read its last file")
	}
	testtree.Must(t, err)
	pullAndCompare(t, ref, src)
}

// An unchanged tree pushed again to its tag is built before anything is
// sent, and the registry's copy is found: nothing is uploaded. Pushed to a
// new tag it is uploaded while building (no cache here knows it), and the
// upload is dropped once the registry says it has the layer.
func TestPushAgainUploadsNothingToTheSameTag(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	src := earlyTree(t)
	ref := proxy.Host() + "/early/again:v1"
	_, err := newClient(t).Push(ctx, ref, os.DirFS(src))
	testtree.Must(t, err)

	proxy.Reset()
	_, err = newClient(t).Push(ctx, ref, os.DirFS(src))
	testtree.Must(t, err)
	if st := proxy.Stats(); st.UploadBytes != 0 {
		t.Errorf("pushing the same tree to its tag again uploaded %d bytes", st.UploadBytes)
	}

	c := newClient(t)
	ref2 := proxy.Host() + "/early/again:v2"
	_, err = c.Push(ctx, ref2, os.DirFS(src))
	testtree.Must(t, err)
	if n := blobber.ClientCounts(c).EarlyUploadsDropped; n != 1 {
		t.Errorf("%d uploads begun while building were dropped, want the one of the layer the registry had", n)
	}
	pullAndCompare(t, ref2, src)
}

// An upload made while the layer is built resumes a chunk that fails; one
// the registry keeps refusing is dropped, and the built layer uploaded the
// usual way; a build that fails drops the upload's session.
func TestEarlyUploadFailures(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	src := earlyTree(t)
	var patches, deletes atomic.Int32
	var fault func(patch int32) *registrytest.Fault
	proxy.SetFaults(func(r *http.Request) *registrytest.Fault {
		if !strings.Contains(r.URL.Path, "/blobs/uploads/") {
			return nil
		}
		switch r.Method {
		case http.MethodDelete:
			deletes.Add(1)
		case http.MethodPatch:
			return fault(patches.Add(1))
		}
		return nil
	})
	retries := 1
	// push reports how many uploads begun while building failed.
	push := func(name string, src fs.FS) (int64, error) {
		patches.Store(0)
		deletes.Store(0)
		c := newClient(t, blobber.WithRetries(retries))
		_, err := c.Push(ctx, proxy.Host()+"/early/"+name+":v1", src)
		return blobber.ClientCounts(c).EarlyUploadsFailed, err
	}

	t.Run("resumed", func(t *testing.T) {
		fault = func(patch int32) *registrytest.Fault {
			if patch == 1 {
				return &registrytest.Fault{FailUploadAfter: 1 << 20}
			}
			return nil
		}
		failed, err := push("resumed", os.DirFS(src))
		testtree.Must(t, err)
		if patches.Load() < 2 || deletes.Load() != 0 || failed != 0 {
			t.Errorf("%d chunks sent, %d sessions dropped, %d early uploads failed; want the failed chunk resumed in its session", patches.Load(), deletes.Load(), failed)
		}
		pullAndCompare(t, proxy.Host()+"/early/resumed:v1", src)
	})

	// Even with retries off: a registry that takes no chunks is no failure.
	for _, retries = range []int{1, -1} {
		name := fmt.Sprintf("refused-retries%d", retries)
		t.Run(name, func(t *testing.T) {
			fault = func(int32) *registrytest.Fault { return &registrytest.Fault{Status: http.StatusBadRequest} }
			failed, err := push(name, os.DirFS(src))
			testtree.Must(t, err)
			if patches.Load() != 1 || deletes.Load() != 1 || failed != 1 {
				t.Errorf("%d chunks sent, %d sessions dropped, %d early uploads failed; want the refused one, dropped", patches.Load(), deletes.Load(), failed)
			}
			pullAndCompare(t, proxy.Host()+"/early/"+name+":v1", src)
		})
	}
	retries = 1

	t.Run("build failed", func(t *testing.T) {
		fault = func(int32) *registrytest.Fault { return nil }
		_, err := push("failed-build", gatedFS{FS: os.DirFS(src), gated: "last.bin"})
		if !errors.Is(err, errGate) {
			t.Fatalf("push of a tree that cannot be read: %v", err)
		}
		if deletes.Load() != 1 {
			t.Errorf("%d sessions dropped after the build failed, want 1", deletes.Load())
		}
	})
}
