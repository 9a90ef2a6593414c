package layer

import (
	"bytes"
	"context"
	"io"
	"slices"
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
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zl), zstd.WithEncoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		return &zstdCodec{enc: enc, tempDir: tempDir}, nil
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
	level   int
	writers sync.Pool
}

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
	zw, _ := c.writers.Get().(*gzip.Writer)
	if zw == nil {
		var err error
		if zw, err = gzip.NewWriterLevel(dst, c.level); err != nil {
			return err
		}
	} else {
		zw.Reset(dst)
	}
	defer c.writers.Put(zw)
	if _, err := zw.Write(src); err != nil {
		return err
	}
	return zw.Close()
}

type zstdCodec struct {
	enc     *zstd.Encoder // EncodeAll is safe for concurrent use
	tempDir string
}

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
// member of the batches it takes.
func compressBatches(ctx context.Context, c codec, in <-chan *batch, out chan<- *batch) error {
	for b := range in {
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
			// Room for the worst case (stored blocks), so the buffer never
			// grows by doubling.
			buf := bytes.NewBuffer(getBuffer(len(m.data) + len(m.data)/64 + 1024))
			if err := c.compress(buf, m.data); err != nil {
				return err
			}
			putBuffer(m.data)
			m.data = nil
			m.compressed = buf.Bytes()
		}
		select {
		case out <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// buffers recycles the builder's large member buffers (content and
// compressed), of a few sizes, within a bound in bytes. A sync.Pool of
// buffers of every size handed a small file's member a chunk-sized buffer,
// held as long as its batch; it dropped a buffer too small for the next
// request, and kept all the others until the next collections.
var buffers = bufferPool{limit: DefaultChunkSize + 1<<20}

// bufferRounding is the step of the pooled buffers' sizes; smaller
// buffers are allocated as asked and left to the collector.
const bufferRounding = 256 << 10

type bufferPool struct {
	mu    sync.Mutex
	free  [][]byte
	bytes int
	limit int
}

// bufferSize is the capacity of a buffer of at least n bytes.
func bufferSize(n int) int {
	if n < bufferRounding {
		return n
	}
	return (n + bufferRounding - 1) / bufferRounding * bufferRounding
}

func getBuffer(capacity int) []byte {
	size := bufferSize(capacity)
	if size >= bufferRounding {
		if b := buffers.take(size); b != nil {
			return b[:0]
		}
	}
	return make([]byte, 0, size)
}

func putBuffer(b []byte) {
	if c := cap(b); c >= bufferRounding && bufferSize(c) == c {
		buffers.keep(b)
	}
}

// take returns a kept buffer of at least size bytes and not much more, or
// nil: a larger one would hold its extra bytes for nothing.
func (p *bufferPool) take(size int) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, b := range p.free {
		if c := cap(b); c >= size && c <= size+size/4 {
			p.free = slices.Delete(p.free, i, i+1)
			p.bytes -= c
			return b
		}
	}
	return nil
}

// keep keeps b unless that would take the pool past its limit.
func (p *bufferPool) keep(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bytes+cap(b) > p.limit {
		return
	}
	p.free = append(p.free, b)
	p.bytes += cap(b)
}
