package blobber_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/cache"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// reuseFixture is a split tree pushed once as :v1 by a client with a cache.
type reuseFixture struct {
	reg      *registrytest.Registry
	proxy    *registrytest.Proxy
	repo     string
	src      string
	cacheDir string
	c        *blobber.Client
	v1       ocispec.Descriptor
	layers   int
}

func newReuseFixture(t *testing.T) *reuseFixture {
	t.Helper()
	t.Cleanup(blobber.SetSplitLimits(64<<10, 8<<10, 32<<10, 128<<10))
	f := &reuseFixture{reg: registrytest.Start(t), src: t.TempDir(), cacheDir: t.TempDir()}
	f.proxy = f.reg.CountingProxy(t)
	f.repo = f.proxy.Host() + "/reuse/layers"
	writeSplitTree(t, f.src, 1)
	f.c = newClient(t, blobber.WithCache(f.cacheDir))
	f.v1 = f.push(t, "v1")
	f.layers = len(layersOf(t, f.c, f.repo+":v1"))
	if f.layers < 4 {
		t.Fatalf("%d layers", f.layers)
	}
	if built := blobber.ClientCounts(f.c).LayersBuilt; built != int64(f.layers) {
		t.Fatalf("the first push built %d layers of %d", built, f.layers)
	}
	return f
}

func (f *reuseFixture) push(t *testing.T, tag string) ocispec.Descriptor {
	t.Helper()
	desc, err := f.c.Push(context.Background(), f.repo+":"+tag, os.DirFS(f.src), blobber.WithLayers(blobber.LayersAuto))
	testtree.Must(t, err)
	return desc
}

// pushCounted pushes the tree as tag and reports the layers built and
// reused, and the bytes uploaded.
func (f *reuseFixture) pushCounted(t *testing.T, tag string) (desc ocispec.Descriptor, built, reused, uploaded int64) {
	t.Helper()
	b0, r0 := blobber.ClientCounts(f.c).LayersBuilt, blobber.ReusedLayers(f.c)
	f.proxy.Reset()
	desc = f.push(t, tag)
	return desc, blobber.ClientCounts(f.c).LayersBuilt - b0, blobber.ReusedLayers(f.c) - r0, f.proxy.Stats().UploadBytes
}

// check pulls tag and compares it with the tree, and checks that a push
// of the tree by a client without a cache (which builds every layer)
// gives the same manifest.
func (f *reuseFixture) check(t *testing.T, tag string, desc ocispec.Descriptor) {
	t.Helper()
	ctx := context.Background()
	dst := filepath.Join(t.TempDir(), "out")
	_, err := f.c.Pull(ctx, f.repo+":"+tag, dst)
	testtree.Must(t, err)
	testtree.Equal(t, f.src, dst)
	fresh, err := newClient(t).Push(ctx, f.reg.Host()+"/reuse/fresh:"+tag, os.DirFS(f.src), blobber.WithLayers(blobber.LayersAuto))
	testtree.Must(t, err)
	if fresh.Digest != desc.Digest {
		t.Fatalf("the push gave %s; building every layer gives %s", desc.Digest, fresh.Digest)
	}
}

// After one file changes, a push builds only the layer that holds it,
// uploads only that layer (and the config and manifest), and publishes
// the artifact a build of every layer would.
func TestPushLayersReuseBuildsOnlyTheChangedLayer(t *testing.T) {
	f := newReuseFixture(t)
	testtree.Must(t, os.WriteFile(filepath.Join(f.src, "d3/f073"), []byte("changed\n"), 0o644))
	desc, built, reused, uploaded := f.pushCounted(t, "v2")
	if built != 1 || reused != int64(f.layers-1) {
		t.Fatalf("built %d layers and reused %d; want 1 and %d", built, reused, f.layers-1)
	}
	var fresh []ocispec.Descriptor
	for _, l := range layersOf(t, f.c, f.repo+":v2") {
		if !containsDigest(layersOf(t, f.c, f.repo+":v1"), l.Digest) {
			fresh = append(fresh, l)
		}
	}
	if len(fresh) != 1 {
		t.Fatalf("%d layers new", len(fresh))
	}
	// The config changes with the layer: it holds every layer's TOC, the
	// reused ones' included (a reused layer's tail is read back).
	in, err := f.c.Inspect(context.Background(), f.repo+":v2")
	testtree.Must(t, err)
	if limit := fresh[0].Size + in.Config.Size + 4<<10; uploaded > limit {
		t.Errorf("uploaded %d bytes; the new layer is %d, the config %d", uploaded, fresh[0].Size, in.Config.Size)
	}
	f.check(t, "v2", desc)

	// Nothing changed since: nothing is built.
	if _, built, reused, _ := f.pushCounted(t, "v3"); built != 0 || reused != int64(f.layers) {
		t.Fatalf("an unchanged tree built %d layers and reused %d", built, reused)
	}
}

// A file rewritten with other bytes of the same size (its change time
// moves) is in a group whose record is a miss; and a record planted under
// the group's new fingerprint, naming the layer of its old bytes, is
// refused by the content check: the group is built again.
func TestPushLayersReuseRefusesChangedContent(t *testing.T) {
	f := newReuseFixture(t)
	before, err := blobber.LayerFingerprints(os.DirFS(f.src))
	testtree.Must(t, err)
	name := filepath.Join(f.src, "d3/f073")
	old, err := os.ReadFile(name)
	testtree.Must(t, err)
	changed := append([]byte(nil), old...)
	changed[len(changed)/2] ^= 1
	testtree.Must(t, os.WriteFile(name, changed, 0o644))

	desc, built, reused, _ := f.pushCounted(t, "v2")
	if built != 1 || reused != int64(f.layers-1) {
		t.Fatalf("built %d layers and reused %d; want 1 and %d", built, reused, f.layers-1)
	}
	f.check(t, "v2", desc)

	// Once more, with the record of the old bytes filed under the new
	// fingerprint.
	changed[0] ^= 1
	testtree.Must(t, os.WriteFile(name, changed, 0o644))
	after, err := blobber.LayerFingerprints(os.DirFS(f.src))
	testtree.Must(t, err)
	cc, err := cache.Open(f.cacheDir)
	testtree.Must(t, err)
	defer cc.Close()
	planted := 0
	for i := range after {
		if after[i] == before[i] {
			continue
		}
		l, diffID, ok := cc.Layer(before[i])
		if !ok {
			t.Fatalf("no record of group %d's first build", i)
		}
		testtree.Must(t, cc.PutLayer(after[i], l, diffID))
		planted++
	}
	if planted != 1 {
		t.Fatalf("%d groups changed", planted)
	}
	refused := blobber.ClientCounts(f.c).RefusedRecords
	desc, built, _, _ = f.pushCounted(t, "v3")
	if built != 1 || blobber.ClientCounts(f.c).RefusedRecords != refused+1 {
		t.Fatalf("built %d layers, refused %d records; want 1 and 1", built, blobber.ClientCounts(f.c).RefusedRecords-refused)
	}
	f.check(t, "v3", desc)
}

// Every layer record pointed at a layer of another tree (which the
// registry holds) is refused; the layers are built again, and the push
// publishes the right artifact.
func TestPushLayersReuseRefusesTamperedRecords(t *testing.T) {
	f := newReuseFixture(t)
	other := t.TempDir()
	writeSplitTree(t, other, 2)
	otherDesc, err := f.c.Push(context.Background(), f.repo+":other", os.DirFS(other), blobber.WithLayers(blobber.LayersAuto))
	testtree.Must(t, err)
	otherLayers := layersOf(t, f.c, f.repo+":other")
	fps, err := blobber.LayerFingerprints(os.DirFS(f.src))
	testtree.Must(t, err)
	cc, err := cache.Open(f.cacheDir)
	testtree.Must(t, err)
	defer cc.Close()
	for i, fp := range fps {
		_, diffID, ok := cc.Layer(fp)
		if !ok {
			t.Fatalf("no record of group %d", i)
		}
		testtree.Must(t, cc.PutLayer(fp, otherLayers[i%len(otherLayers)], diffID))
	}
	refused := blobber.ClientCounts(f.c).RefusedRecords
	desc, built, reused, _ := f.pushCounted(t, "v2")
	if built != int64(f.layers) || reused != 0 {
		t.Fatalf("built %d layers and reused %d; want %d and 0", built, reused, f.layers)
	}
	if got := blobber.ClientCounts(f.c).RefusedRecords - refused; got != int64(f.layers) {
		t.Errorf("%d records refused, want %d", got, f.layers)
	}
	if desc.Digest != f.v1.Digest || desc.Digest == otherDesc.Digest {
		t.Fatalf("pushed %s; the tree is %s", desc.Digest, f.v1.Digest)
	}
	f.check(t, "v2", desc)
}
