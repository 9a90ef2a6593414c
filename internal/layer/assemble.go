package layer

import (
	"context"
	"fmt"
	"io"
)

// orderedWriter writes compressed batches in walk order and records where
// each chunk's member starts.
type orderedWriter struct {
	out    *countingWriter
	tokens <-chan struct{}
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
			<-ow.tokens
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
		if _, err := ow.out.Write(m.compressed); err != nil {
			return fmt.Errorf("writing layer: %w", err)
		}
		putBuffer(m.compressed)
		m.compressed = nil
	}
	return nil
}

var _ io.Writer = (*countingWriter)(nil)
