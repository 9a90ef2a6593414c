package pagewrite

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// recorder is a file in memory that records the size of every write.
type recorder struct {
	data   []byte
	writes []int
	failAt int // the write (1-based) that fails; 0: none
}

func (r *recorder) WriteAt(p []byte, off int64) (int, error) {
	r.writes = append(r.writes, len(p))
	if len(r.writes) == r.failAt {
		return len(p) / 2, errors.New("disk full")
	}
	if need := int(off) + len(p); need > len(r.data) {
		r.data = append(r.data, make([]byte, need-len(r.data))...)
	}
	copy(r.data[off:], p)
	return len(p), nil
}

func (r *recorder) Write(p []byte) (int, error) { return r.WriteAt(p, int64(len(r.data))) }

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 31 / 7)
	}
	return b
}

func TestWriteAtSplitsIntoPieces(t *testing.T) {
	p := pattern(4*Piece + 123)
	var r recorder
	n, err := WriteAt(&r, p, 10)
	if err != nil || n != len(p) {
		t.Fatalf("WriteAt = %d, %v; want %d, nil", n, err, len(p))
	}
	want := []int{Piece, Piece, Piece, Piece, 123}
	if len(r.writes) != len(want) {
		t.Fatalf("writes %v, want %v", r.writes, want)
	}
	for i := range want {
		if r.writes[i] != want[i] {
			t.Fatalf("writes %v, want %v", r.writes, want)
		}
	}
	if !bytes.Equal(r.data[10:], p) {
		t.Fatal("content differs")
	}
}

func TestWriteAppendsInPieces(t *testing.T) {
	p := pattern(2*Piece + 1)
	r := recorder{data: []byte("head")}
	if n, err := Write(&r, p); err != nil || n != len(p) {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if len(r.writes) != 3 || !bytes.Equal(r.data, append([]byte("head"), p...)) {
		t.Fatalf("writes %v; content equal %v", r.writes, bytes.Equal(r.data[4:], p))
	}
}

func TestShortWriteStopsWithItsCount(t *testing.T) {
	p := pattern(3 * Piece)
	for _, write := range []func(*recorder) (int, error){
		func(r *recorder) (int, error) { return WriteAt(r, p, 0) },
		func(r *recorder) (int, error) { return Write(r, p) },
	} {
		r := recorder{failAt: 2}
		n, err := write(&r)
		if err == nil || n != Piece+Piece/2 || len(r.writes) != 2 {
			t.Fatalf("got %d, %v after %d writes; want %d and the error after 2", n, err, len(r.writes), Piece+Piece/2)
		}
	}
}

func TestEmptyWritesNothing(t *testing.T) {
	var r recorder
	if n, err := WriteAt(&r, nil, 5); n != 0 || err != nil || len(r.writes) != 0 {
		t.Fatalf("WriteAt(nil) = %d, %v after %d writes", n, err, len(r.writes))
	}
}

// BenchmarkNewFile writes 256 MiB into a new file from 4 MiB buffers,
// whole or through WriteAt. The file is removed after each round and the
// memory it held left 2 s to go back to the host, as between a
// benchmark's runs (untimed): run it with -benchtime 5x or so.
func BenchmarkNewFile(b *testing.B) {
	const size, bufSize = 256 << 20, 4 << 20
	bufs := make([][]byte, 8) // 32 MiB of sources, more than the caches
	for i := range bufs {
		bufs[i] = pattern(bufSize)
	}
	for _, c := range []struct {
		name  string
		write func(f *os.File, p []byte, off int64) error
	}{
		{"whole", func(f *os.File, p []byte, off int64) error { _, err := f.WriteAt(p, off); return err }},
		{"pieces", func(f *os.File, p []byte, off int64) error { _, err := WriteAt(f, p, off); return err }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(size)
			name := filepath.Join(b.TempDir(), "f")
			for range b.N {
				f, err := os.Create(name)
				if err != nil {
					b.Fatal(err)
				}
				for off := int64(0); off < size; off += bufSize {
					if err := c.write(f, bufs[off/bufSize%8], off); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				f.Close()
				os.Remove(name)
				time.Sleep(2 * time.Second)
				b.StartTimer()
			}
		})
	}
}
