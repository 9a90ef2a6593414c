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
	out    *countingWriter
	budget *buildBudget
	toc    *tocWriter
	codec  codec
	stream io.WriteCloser // compresses the member being streamed
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
	for _, m := range b.members {
		if m.chunk != nil {
			m.chunk.Offset = ow.out.n
		}
		if m.streamed {
			if err := ow.writePiece(m); err != nil {
				return fmt.Errorf("writing layer: %w", err)
			}
			continue
		}
		if _, err := ow.out.Write(m.compressed); err != nil {
			return fmt.Errorf("writing layer: %w", err)
		}
		putBuffer(m.compressed)
		m.compressed = nil
	}
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
	putBuffer(m.data)
	m.data = nil
	if m.more {
		return nil
	}
	err := ow.stream.Close()
	ow.stream = nil
	return err
}

var _ io.Writer = (*countingWriter)(nil)
