package layer

import (
	"fmt"
	"io"
	"testing"
	"testing/fstest"
	"time"
)

// The builds of a split push's layers share one set of buffers: the
// second build of the same shape makes only those the set did not keep
// (it keeps half of what a build holds at its peak, see newBuildBuffers),
// where a build of its own would make as many as the first.
func TestSharedMemoryServesTheNextBuild(t *testing.T) {
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
	opts := ShareMemory(Options{Workers: 2, TempDir: t.TempDir()})
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

// Two builds that share one budget run at once to the end (the budget
// holds no batch one of them waits for forever), and each makes the blob
// it makes alone.
func TestSharedMemoryBuildsAtOnce(t *testing.T) {
	trees := []fstest.MapFS{{}, {}}
	data := make([]byte, 2*DefaultChunkSize+12345)
	for i := range data {
		data[i] = byte(i * 13 % 253)
	}
	for i := range 40 {
		trees[i%2][fmt.Sprintf("d/%02d", i)] = &fstest.MapFile{Data: data[:len(data)-i*50000], Mode: 0o644}
	}
	alone := make([]*Result, 2)
	for i, tree := range trees {
		res, err := Build(t.Context(), tree, io.Discard, Options{Workers: 2, TempDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		alone[i] = res
	}
	opts := ShareMemory(Options{Workers: 2, TempDir: t.TempDir()})
	shared := make([]*Result, 2)
	errs := make(chan error, 2)
	for i, tree := range trees {
		go func() {
			var err error
			shared[i], err = Build(t.Context(), tree, io.Discard, opts)
			errs <- err
		}()
	}
	for range trees {
		select {
		case err := <-errs:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(2 * time.Minute):
			t.Fatal("two builds sharing a budget did not end")
		}
	}
	for i := range trees {
		if shared[i].Digest != alone[i].Digest {
			t.Errorf("tree %d: %s built beside another, %s alone", i, shared[i].Digest, alone[i].Digest)
		}
	}
}
