package layer

import (
	"fmt"
	"io"
	"testing"
	"testing/fstest"
)

// The builds of a split push's layers share one set of buffers: the
// second build of the same shape makes only those the set did not keep
// (it keeps half of what a build holds at its peak, see newBuildBuffers),
// where a build of its own would make as many as the first.
func TestSharedBuffersServeTheNextBuild(t *testing.T) {
	data := make([]byte, 3*DefaultChunkSize)
	for i := range data {
		data[i] = byte(i * 7 % 251)
	}
	tree := func(prefix string) fstest.MapFS {
		fsys := fstest.MapFS{}
		for i := range 3 {
			fsys[fmt.Sprintf("%s/big-%d", prefix, i)] = &fstest.MapFile{Data: data[:len(data)-i*4099], Mode: 0o644}
			fsys[fmt.Sprintf("%s/small-%d", prefix, i)] = &fstest.MapFile{Data: data[:3000*(i+1)], Mode: 0o644}
		}
		return fsys
	}
	opts := ShareBuffers(Options{Workers: 2, TempDir: t.TempDir()})
	made := func() int64 { return opts.buffers.content.made + opts.buffers.compressed.made }
	if _, err := Build(t.Context(), tree("a"), io.Discard, opts); err != nil {
		t.Fatal(err)
	}
	first := made()
	if first == 0 {
		t.Fatal("the first build made no buffers: the test measures nothing")
	}
	if _, err := Build(t.Context(), tree("b"), io.Discard, opts); err != nil {
		t.Fatal(err)
	}
	second := made() - first
	t.Logf("first build made %d KiB of buffers, the second %d KiB", first>>10, second>>10)
	if second > first*3/4 {
		t.Errorf("the second build made %d KiB of buffers, the first %d KiB: the set was not shared", second>>10, first>>10)
	}
}
