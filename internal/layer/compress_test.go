package layer

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// A member compressed piece by piece as a stream is the member compressed
// whole, whatever the pieces: long runs of entries without content depend
// on it.
func TestGzipStreamIsCompress(t *testing.T) {
	c := &gzipCodec{}
	r := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{1, 100, 64 << 10, 64<<10 + 1, 3<<20 + 12345} {
		// Tar headers: compressible, with some noise.
		src := make([]byte, size)
		for i := range src {
			if i%512 < 100 {
				src[i] = byte('a' + r.IntN(26))
			} else if i%512 < 160 {
				src[i] = '0' + byte(r.IntN(8))
			}
		}
		var whole bytes.Buffer
		if err := c.compress(&whole, src); err != nil {
			t.Fatal(err)
		}
		for _, pieces := range []int{1, 2, 7, 300} {
			t.Run(fmt.Sprintf("%d-bytes/%d-pieces", size, pieces), func(t *testing.T) {
				var streamed bytes.Buffer
				s, err := c.stream(&streamed)
				if err != nil {
					t.Fatal(err)
				}
				rest := src
				for i := pieces; i > 1 && len(rest) > 0; i-- {
					n := r.IntN(2*len(rest)/i + 1)
					if _, err := s.Write(rest[:n]); err != nil {
						t.Fatal(err)
					}
					rest = rest[n:]
				}
				if _, err := s.Write(rest); err != nil {
					t.Fatal(err)
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(streamed.Bytes(), whole.Bytes()) {
					t.Fatalf("streamed in %d pieces: %d bytes, whole: %d", pieces, streamed.Len(), whole.Len())
				}
			})
		}
	}
}
