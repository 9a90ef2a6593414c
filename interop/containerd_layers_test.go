package interop

import (
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// TestContainerdMountsASplitPush: a --layers auto push, whose config
// holds the layers' tables of contents under a key of Blobber's, is an
// image containerd pulls, unpacks layer by layer and mounts as the
// pushed tree.
func TestContainerdMountsASplitPush(t *testing.T) {
	ctd := startContainerd(t)
	reg := registrytest.Start(t)
	src := t.TempDir()
	writeSplittableTree(t, src)
	ref := reg.Host() + "/interop/containerd-split:v1"
	pushTree(t, src, ref, blobber.WithLayers(blobber.LayersAuto), blobber.WithChunkSize(4<<20))
	testtree.Equal(t, src, ctd.mount(t, ref, blobber.DefaultPlatform))
}
