package layer

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/blobber-dev/blobber/internal/compression"
)

// The builds of a split push's layers share their compressors too: the
// second build takes the gzip writers the first one made (each holds
// tables of about a MiB, allocated and cleared when made) and makes none,
// and each blob is the one its build makes alone.
func TestSharedMemorySharesTheCompressors(t *testing.T) {
	data := make([]byte, 3*DefaultChunkSize)
	for i := range data {
		data[i] = byte(i * 7 % 251)
	}
	tree := func(prefix string) fstest.MapFS {
		fsys := fstest.MapFS{}
		for i := range 12 {
			fsys[fmt.Sprintf("%s/f-%02d", prefix, i)] = &fstest.MapFile{Data: data[:200000+i*97], Mode: 0o644}
		}
		return fsys
	}
	opts := ShareMemory(Options{Workers: 2, TempDir: t.TempDir()})
	shared, ok := opts.codec.(*gzipCodec)
	if !ok {
		t.Fatalf("ShareMemory's codec is %T, want the gzip codec shared by the builds", opts.codec)
	}
	var firstBlob bytes.Buffer
	if _, err := Build(t.Context(), tree("a"), &firstBlob, opts); err != nil {
		t.Fatal(err)
	}
	first := slices.Clone(shared.writers)
	if len(first) == 0 {
		t.Fatal("the first build left no gzip writer in the shared codec: it made its own")
	}
	var second bytes.Buffer
	if _, err := Build(t.Context(), tree("b"), &second, opts); err != nil {
		t.Fatal(err)
	}
	for _, w := range shared.writers {
		if !slices.Contains(first, w) {
			t.Errorf("the second build made a gzip writer of its own (%d kept after the first, %d after the second)", len(first), len(shared.writers))
			break
		}
	}
	var alone bytes.Buffer
	if _, err := Build(t.Context(), tree("b"), &alone, Options{Workers: 2, TempDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(second.Bytes(), alone.Bytes()) {
		t.Error("a build with the shared compressors made another blob than the same build alone")
	}
	if _, ok := ShareMemory(Options{Compression: compression.Zstd}).codec.(*zstdCodec); !ok {
		t.Error("ShareMemory did not share a zstd codec for zstd builds")
	}
}
