package layer

import (
	"context"
	"fmt"
	"io"
)

// orderedWriter writes compressed batches in walk order, records where each
// chunk's member starts and renders the TOC entries of each batch once it is
// written, when they are final.
type orderedWriter struct {
	out     *countingWriter
	budget  *buildBudget
	buffers *buildBuffers
	toc     *tocWriter
	codec   codec
	stream  io.WriteCloser // compresses the member being streamed
}

func (ow *orderedWriter) run(ctx context.Context, in <-chan *batch) error {
	pending := make(map[int]*batch)
	next := 0
	for b := range in {
		pending[b.seq] = b
		for {
			b, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			if err := ow.write(b); err != nil {
				return err
			}
			ow.budget.release(b)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if len(pending) > 0 {
		return fmt.Errorf("layer build stopped with %d batches unwritten", len(pending))
	}
	return nil
}

func (ow *orderedWriter) write(b *batch) error {
	// The members compressed whole lie one after the other in
	// b.compressed, and go out in runs, between the streamed pieces.
	written, end := 0, 0 // in b.compressed: the bytes out, and the members seen
	for _, m := range b.members {
		if !m.streamed {
			if m.chunk != nil {
				m.chunk.Offset = ow.out.n + int64(end-written)
			}
			end = m.compressedEnd
			continue
		}
		if err := ow.writeRun(b.compressed[written:end]); err != nil {
			return err
		}
		written = end
		if m.chunk != nil {
			m.chunk.Offset = ow.out.n
		}
		if err := ow.writePiece(m); err != nil {
			return fmt.Errorf("writing layer: %w", err)
		}
	}
	if err := ow.writeRun(b.compressed[written:end]); err != nil {
		return err
	}
	ow.buffers.compressed.put(b.compressed)
	for _, a := range b.arenas {
		ow.buffers.arenas.put(a)
	}
	b.compressed, b.arenas = nil, nil
	for _, e := range b.toc {
		if err := ow.toc.add(e); err != nil {
			return err
		}
	}
	for _, d := range b.fileDigests {
		if err := ow.toc.setDigest(d); err != nil {
			return err
		}
	}
	b.toc, b.fileDigests = nil, nil
	return nil
}

func (ow *orderedWriter) writeRun(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	if _, err := ow.out.Write(p); err != nil {
		return fmt.Errorf("writing layer: %w", err)
	}
	return nil
}

// writePiece compresses one piece of a streamed member.
func (ow *orderedWriter) writePiece(m *member) error {
	if ow.stream == nil {
		s, ok := ow.codec.(streamer)
		if !ok {
			return fmt.Errorf("%T cannot compress a member in pieces", ow.codec)
		}
		var err error
		if ow.stream, err = s.stream(ow.out); err != nil {
			return err
		}
	}
	if _, err := ow.stream.Write(m.data); err != nil {
		return err
	}
	ow.buffers.content.release(m)
	if m.more {
		return nil
	}
	err := ow.stream.Close()
	ow.stream = nil
	return err
}

var _ io.Writer = (*countingWriter)(nil)
