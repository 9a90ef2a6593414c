package layer

import (
	"bytes"
	"context"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	digest "github.com/opencontainers/go-digest"

	"github.com/blobber-dev/blobber/internal/compression"
)

// codec compresses members with klauspost/compress, which is several times
// faster than the standard library and safe to run in parallel, and writes
// the TOC and footer as estargz's WriteTOCAndFooter does for this
// compression, so that the blob is byte for byte what its readers expect.
type codec interface {
	compress(dst *bytes.Buffer, src []byte) error
	// writeTOC writes the TOC JSON, size bytes read from json, and the
	// footer to w, which is at offset off of the blob; what the diffID
	// covers of them goes to diffHash too.
	writeTOC(w io.Writer, off int64, json io.Reader, size int64, diffHash io.Writer) error
	// held is about what the codec holds from its first member to the
	// end of the build, beyond what gzip's writers hold: the build keeps
	// that much less in its pools (see newBuildBuffers).
	held() int64
}

// streamer is a codec that can compress a member given in pieces, in order,
// into the bytes compress makes of the whole member.
type streamer interface {
	stream(dst io.Writer) (io.WriteCloser, error)
}

func newCodec(c compression.Compression, level compression.Level, tempDir string) (codec, error) {
	if err := c.Check(); err != nil {
		return nil, err
	}
	if err := c.CheckLevel(level); err != nil {
		return nil, err
	}
	if c == compression.Zstd {
		_, zl := zstd.EncoderLevelFromString(string(c.Effective(level)))
		// One encoder: the workers' EncodeAll calls take it in turn. An
		// encoder per core compresses in parallel but holds its tables
		// each, which the build's memory bound does not fit
		// (TestBuildMemoryDoesNotGrowWithEntries). With the lower memory
		// option its history is one window and a block, not two windows:
		// EncodeAll starts each member afresh, and a member of the default
		// chunk size is shorter than a window, so the second window was
		// never filled, only kept live. The option changes what the
		// encoder allocates, not what it writes
		// (TestZstdLowerMemorySameBytes).
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zl), zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true))
		if err != nil {
			return nil, err
		}
		return &zstdCodec{enc: enc, tempDir: tempDir, history: zstdHistory(zl)}, nil
	}
	// The default stays gzip.DefaultCompression, which klauspost/compress
	// builds as level 5: the blobs of default pushes do not change.
	gl := gzip.DefaultCompression
	if level != "" {
		gl = compression.GzipLevel(level)
	}
	return &gzipCodec{level: gl}, nil
}

type gzipCodec struct {
	level int
	// writers are kept for the whole build, one per worker at most: a
	// sync.Pool loses them at every collection, and a new writer
	// allocates and clears its tables again.
	mu      sync.Mutex
	writers []*gzip.Writer
}

func (c *gzipCodec) held() int64 { return 0 }

func (c *gzipCodec) writeTOC(w io.Writer, off int64, json io.Reader, size int64, diffHash io.Writer) error {
	return writeGzipTOC(w, off, json, size, diffHash)
}

// stream relies on klauspost's flate compressing what it is given in blocks
// of a fixed size, whatever the sizes of the writes (the tests check it).
// A zstd member cannot be streamed the same way: EncodeAll, which compresses
// the others, frames its input unlike zstd's stream encoder, so a long zstd
// member is cut into several instead (see walker.cut).
func (c *gzipCodec) stream(dst io.Writer) (io.WriteCloser, error) {
	return gzip.NewWriterLevel(dst, c.level)
}

func (c *gzipCodec) compress(dst *bytes.Buffer, src []byte) error {
	var zw *gzip.Writer
	c.mu.Lock()
	if n := len(c.writers); n > 0 {
		zw, c.writers = c.writers[n-1], c.writers[:n-1]
	}
	c.mu.Unlock()
	if zw == nil {
		var err error
		if zw, err = gzip.NewWriterLevel(dst, c.level); err != nil {
			return err
		}
	} else {
		zw.Reset(dst)
	}
	defer func() {
		c.mu.Lock()
		c.writers = append(c.writers, zw)
		c.mu.Unlock()
	}()
	if _, err := zw.Write(src); err != nil {
		return err
	}
	return zw.Close()
}

type zstdCodec struct {
	enc     *zstd.Encoder // EncodeAll is safe for concurrent use
	tempDir string
	history int64
}

// zstdHistory is what the encoder of level l allocates for its history
// with the lower memory option, at its first member longer than a block,
// and keeps: a window (klauspost/compress's window of the level, which the
// encoder does not report) and a block.
func zstdHistory(l zstd.EncoderLevel) int64 {
	window := int64(8 << 20)
	if l == zstd.SpeedFastest {
		window = 4 << 20
	}
	return window + 128<<10
}

func (c *zstdCodec) held() int64 { return c.history }

// writeTOC leaves diffHash alone, as zstdchunked's WriteTOCAndFooter does:
// the TOC is in skippable frames, outside the tar.
func (c *zstdCodec) writeTOC(w io.Writer, off int64, json io.Reader, size int64, _ io.Writer) error {
	return writeZstdTOC(w, off, json, size, zstd.SpeedDefault, c.tempDir)
}

func (c *zstdCodec) compress(dst *bytes.Buffer, src []byte) error {
	out := c.enc.EncodeAll(src, dst.AvailableBuffer())
	dst.Write(out)
	return nil
}

// compressBatches is one worker: it digests each chunk and compresses each
// member of the batches it takes, one after the other into one buffer per
// batch, which the ordered writer writes at once.
func compressBatches(ctx context.Context, c codec, buffers *buildBuffers, in <-chan *batch, out chan<- *batch) error {
	for b := range in {
		// Room for the worst case (stored blocks), so the buffer never
		// grows by doubling.
		need := 0
		for _, m := range b.members {
			if !m.streamed {
				need += len(m.data) + len(m.data)/64 + 1024
			}
		}
		buf := bytes.NewBuffer(buffers.compressed.get(need))
		for _, m := range b.members {
			if m.chunk != nil {
				d := digest.FromBytes(m.data[:m.chunkLen]).String()
				m.chunk.ChunkDigest = d
				if m.whole != nil {
					m.whole.Digest = d
				}
			}
			if m.streamed {
				continue // compressed by the ordered writer
			}
			if err := c.compress(buf, m.data); err != nil {
				return err
			}
			buffers.content.release(m)
			m.compressedEnd = buf.Len()
		}
		b.compressed = buf.Bytes()
		select {
		case out <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
