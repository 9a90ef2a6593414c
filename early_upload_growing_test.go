package blobber_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// A layer smaller than the upload's chunk (64 MiB by default: most
// layers) is uploaded while it is built too: the registry receives its
// first bytes before the build reads the tree's last file, rather than
// the whole layer once it is built.
func TestPushUploadsALayerSmallerThanAChunkWhileBuilding(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	src := earlyTree(t)
	uploading := func() bool { return proxy.Stats().UploadBytes > 0 }
	ref := proxy.Host() + "/early/small-layer:v1"
	_, err := newClient(t).Push(ctx, ref, gatedFS{FS: os.DirFS(src), gated: "last.bin", open: uploading})
	if errors.Is(err, errGate) {
		t.Fatal("nothing was uploaded before the build read its last file")
	}
	testtree.Must(t, err)
	if st := proxy.Stats(); st.UploadBytes > 11<<20 {
		t.Errorf("uploaded %d bytes for a layer of about 10 MiB", st.UploadBytes)
	}
	pullAndCompare(t, ref, src)
}
