package toc

import (
	"context"
	"io"
)

// tocPiece is how much of a compressed TOC Read holds at once: the TOC
// of a tree of hundreds of thousands of files is tens of MiB, which would
// otherwise sit in memory beside the index being built from it. Each
// piece is one read of the layer (a range request when it is not cached),
// so most TOCs still take one. (A variable for tests, which make it small.)
var tocPiece int64 = 4 << 20

// pieceReader reads the bytes [off, end) of r in order, a piece at a time
// through one buffer.
type pieceReader struct {
	ctx      context.Context
	r        io.ReaderAt
	off, end int64
	buf      []byte
	pos, n   int   // buf[pos:n] is read but not yet consumed
	err      error // r's failure (or ctx's), which is not the TOC's fault
}

func newPieceReader(ctx context.Context, r io.ReaderAt, off, size int64) *pieceReader {
	return &pieceReader{ctx: ctx, r: r, off: off, end: off + size, buf: make([]byte, min(size, tocPiece))}
}

func (p *pieceReader) Read(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	if p.pos == p.n {
		if p.off >= p.end {
			return 0, io.EOF
		}
		if err := p.ctx.Err(); err != nil {
			p.err = err
			return 0, err
		}
		size := min(int64(len(p.buf)), p.end-p.off)
		n, err := p.r.ReadAt(p.buf[:size], p.off)
		if err != nil && err != io.EOF {
			p.err = err
			return 0, err
		}
		if int64(n) < size {
			p.end = p.off + int64(n) // the blob ends early: its TOC is cut short
		}
		if n == 0 {
			return 0, io.EOF
		}
		p.off += int64(n)
		p.pos, p.n = 0, n
	}
	c := copy(b, p.buf[p.pos:p.n])
	p.pos += c
	return c, nil
}
