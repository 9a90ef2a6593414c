package layer

import (
	"bytes"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/blobber-dev/blobber/internal/compression"
)

// tarLike is size bytes that compress as tar headers and text do, with
// noise, and repeats far enough apart to use a long window.
func tarLike(r *rand.Rand, size int) []byte {
	src := make([]byte, size)
	for i := range src {
		switch {
		case i%512 < 100:
			src[i] = byte('a' + r.IntN(26))
		case i%512 < 160:
			src[i] = '0' + byte(r.IntN(8))
		case i%4096 < 1024:
			src[i] = byte(r.Uint32())
		}
	}
	if size > 3<<20 {
		copy(src[size-1<<20:], src[1<<20:2<<20])
	}
	return src
}

// The zstd codec's encoder uses the lower memory option, which must not
// change a byte of what EncodeAll writes, at every level, for members one
// after the other on one encoder, shorter and longer than a block or a
// window.
func TestZstdLowerMemorySameBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var members [][]byte
	for _, size := range []int{0, 1, 1000, 128 << 10, 128<<10 + 1, 4 << 20, 3<<20 + 12345, 9<<20 + 7} {
		members = append(members, tarLike(r, size))
	}
	for _, level := range compression.ZstdLevels {
		t.Run(string(level), func(t *testing.T) {
			if level != "default" {
				skipUnderRace(t)
			}
			_, zl := zstd.EncoderLevelFromString(string(level))
			plain, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zl), zstd.WithEncoderConcurrency(1))
			if err != nil {
				t.Fatal(err)
			}
			c, err := newCodec(compression.Zstd, level, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			for i, m := range members {
				var got bytes.Buffer
				if err := c.compress(&got, m); err != nil {
					t.Fatal(err)
				}
				if want := plain.EncodeAll(m, nil); !bytes.Equal(got.Bytes(), want) {
					t.Fatalf("member %d of %d bytes: %d bytes compressed, %d without the option", i, len(m), got.Len(), len(want))
				}
			}
		})
	}
}

// The zstd codec holds one window of history, not two: a build's live
// heap is its buffers and little more, as with gzip.
func TestZstdCodecHoldsOneWindow(t *testing.T) {
	liveHeap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	src := tarLike(rand.New(rand.NewPCG(5, 6)), DefaultChunkSize)
	before := liveHeap()
	c, err := newCodec(compression.Zstd, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		var dst bytes.Buffer
		if err := c.compress(&dst, src); err != nil {
			t.Fatal(err)
		}
	}
	held := int64(liveHeap()) - int64(before)
	runtime.KeepAlive(c)
	runtime.KeepAlive(src)
	t.Logf("the codec holds %d KiB", held>>10)
	// A window of the default level is 8 MiB; its tables and a block's
	// buffers some 2 MiB more.
	if held > 12<<20 {
		t.Errorf("the codec holds %d KiB after compressing a chunk, want at most %d", held>>10, 12<<10)
	}
}
