package layer

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/blobber-dev/blobber/internal/compression"
)

// randomChunk is n bytes that never repeat, as in a file of random or
// already compressed bytes.
func randomChunk(n int) []byte {
	r := rand.New(rand.NewPCG(7, 8))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// logChunk is n bytes of lines like the benchmark's log files: a
// timestamp, a level, a path and a request id, about 3.5:1 at level 1.
func logChunk(n int) []byte {
	r := rand.New(rand.NewPCG(9, 10))
	var b bytes.Buffer
	for ms := int64(1742777139000); b.Len() < n; ms += int64(r.IntN(250)) {
		fmt.Fprintf(&b, "%s %s [%s-%d] %s %s%d status=%d bytes=%d dur=%.2fms req=%012x\n",
			time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z"), []string{"INFO ", "INFO ", "DEBUG", "WARN ", "ERROR"}[r.IntN(5)],
			[]string{"http", "db", "cache", "worker", "api"}[r.IntN(5)], r.IntN(16), []string{"GET", "GET", "POST", "DELETE"}[r.IntN(4)],
			[]string{"/api/v1/items/", "/static/assets/", "/api/v1/search?q="}[r.IntN(3)], r.IntN(100000),
			[]int{200, 200, 201, 304, 404, 500}[r.IntN(6)], r.IntN(65536), float64(r.IntN(50000))/100, r.Uint64()&0xffffffffffff)
	}
	return b.Bytes()[:n]
}

// At level 1, as at the default, a chunk of bytes that do not compress is
// stored: the member is the chunk and a few bytes of framing, so a push of
// random or compressed files at level 1 spends no more on them than at the
// default level (the measurements behind --compression-level 1 rely on it).
func TestLevelOneStoresIncompressibleChunks(t *testing.T) {
	src := randomChunk(DefaultChunkSize)
	for _, level := range []compression.Level{"1", ""} {
		c, err := newCodec(compression.Gzip, level, "")
		if err != nil {
			t.Fatal(err)
		}
		var member bytes.Buffer
		if err := c.compress(&member, src); err != nil {
			t.Fatal(err)
		}
		// A stored block holds at most 65,535 bytes after 5 of framing, and a
		// last empty one ends the member; gzip adds 18.
		if limit := len(src) + 5*(len(src)/65535+2) + 18; member.Len() > limit {
			t.Errorf("level %q: %d random bytes became %d, more than stored blocks (%d)", level, len(src), member.Len(), limit)
		}
		zr, err := gzip.NewReader(&member)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(got, src) {
			t.Fatalf("level %q: the member does not decode to the chunk (%v)", level, err)
		}
	}
}

// BenchmarkChunkWork is the CPU a push spends on one chunk, piece by
// piece: deflate at levels 1 and 5 (through the build's codec, one writer
// reset per member) on log lines and on random bytes, and one SHA-256 pass,
// of which a push makes four over each file chunk (the chunk's digest, the
// file's, the diffID's, and the blob's over the compressed bytes). Judge
// it by CPU time on a busy machine (-cpuprofile, or a quiet run).
//
//	go test -run '^$' -bench ChunkWork -count 3 ./internal/layer
func BenchmarkChunkWork(b *testing.B) {
	n := DefaultChunkSize
	inputs := []struct {
		name string
		data []byte
	}{
		{"log", logChunk(n)},
		{"random", randomChunk(n)},
	}
	for _, in := range inputs {
		for _, level := range []compression.Level{"1", "5"} {
			b.Run(fmt.Sprintf("deflate%s/%s", level, in.name), func(b *testing.B) {
				c, err := newCodec(compression.Gzip, level, "")
				if err != nil {
					b.Fatal(err)
				}
				var member bytes.Buffer
				b.SetBytes(int64(len(in.data)))
				for b.Loop() {
					member.Reset()
					if err := c.compress(&member, in.data); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(member.Len())/float64(len(in.data)), "ratio")
			})
		}
	}
	b.Run("sha256", func(b *testing.B) {
		b.SetBytes(int64(n))
		for b.Loop() {
			sha256.Sum256(inputs[0].data)
		}
	})
}
