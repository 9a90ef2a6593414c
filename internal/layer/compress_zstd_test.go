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

// The zstd codec holds one window of history, not two, and about what
// held says it holds, which the build's pools keep less by.
func TestZstdCodecHoldsOneWindow(t *testing.T) {
	src := tarLike(rand.New(rand.NewPCG(5, 6)), DefaultChunkSize)
	for _, level := range []compression.Level{"fastest", "default"} {
		t.Run(string(level), func(t *testing.T) {
			before := liveHeap()
			c, err := newCodec(compression.Zstd, level, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				var dst bytes.Buffer
				if err := c.compress(&dst, src); err != nil {
					t.Fatal(err)
				}
			}
			holds := liveHeap() - before
			runtime.KeepAlive(c)
			t.Logf("the codec holds %d KiB, says %d KiB", holds>>10, c.held()>>10)
			// Beyond its history, the encoder's tables and a block's
			// buffers: a few MiB, not a window.
			if holds < c.held() || holds > c.held()+3<<20 {
				t.Errorf("the codec holds %d KiB after compressing a chunk, says %d KiB", holds>>10, c.held()>>10)
			}
		})
	}
	runtime.KeepAlive(src)
}

// The buffers a zstd build keeps for reuse and its codec's history
// together keep no more than a gzip build's buffers may.
func TestZstdBuildsKeepWhatGzipBuildsKeep(t *testing.T) {
	keeps := func(opts Options) int64 {
		b := opts.buffers
		n := int64(b.content.limit + b.compressed.limit + b.arenas.limit)
		if opts.codec != nil {
			n += opts.codec.held()
		}
		return n
	}
	gz := keeps(ShareMemory(Options{Compression: compression.Gzip, Workers: 2}))
	for _, level := range compression.ZstdLevels {
		if zs := keeps(ShareMemory(Options{Compression: compression.Zstd, Level: level, Workers: 2, TempDir: t.TempDir()})); zs > gz {
			t.Errorf("level %s: a zstd build keeps up to %d KiB, a gzip build %d KiB", level, zs>>10, gz>>10)
		}
	}
}
