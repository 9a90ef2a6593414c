package layer

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"testing"
)

// A spool reads back what was written and overwritten, wherever the
// boundary between memory and file falls, and leaves no file behind.
func TestSpool(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, memory := range []int{1, 100, 1000, 1 << 20} {
		t.Run(fmt.Sprint(memory), func(t *testing.T) {
			withSpoolMemory(t, memory)
			dir := t.TempDir()
			s := &spool{dir: dir}
			var want []byte
			for range 200 {
				p := make([]byte, r.IntN(50))
				for i := range p {
					p[i] = byte(r.IntN(256))
				}
				if _, err := s.Write(p); err != nil {
					t.Fatal(err)
				}
				want = append(want, p...)
				if len(want) > 0 && r.IntN(3) == 0 {
					off := r.IntN(len(want))
					p := bytes.Repeat([]byte{byte(r.IntN(256))}, r.IntN(len(want)-off+1))
					if err := s.writeAt(p, int64(off)); err != nil {
						t.Fatal(err)
					}
					copy(want[off:], p)
				}
			}
			if err := s.writeAt([]byte("x"), int64(len(want))); err == nil {
				t.Error("an overwrite past the end was accepted")
			}
			if s.size() != int64(len(want)) {
				t.Fatalf("size %d, want %d", s.size(), len(want))
			}
			got, err := io.ReadAll(s.reader())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatal("read back differs from what was written")
			}
			if err := s.close(); err != nil {
				t.Fatal(err)
			}
			if left, _ := os.ReadDir(dir); len(left) > 0 {
				t.Fatalf("left behind: %v", left)
			}
		})
	}
}
