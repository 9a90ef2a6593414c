package upload

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func newTail(t *testing.T) *Tail {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "blob"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return NewTail(f)
}

// A reader follows the writer: it waits for bytes not written yet, gets
// every byte once, and ends where the writer closed.
func TestTailReaderFollowsTheWriter(t *testing.T) {
	tail := newTail(t)
	want := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	got := make(chan []byte)
	go func() {
		b, err := io.ReadAll(tail.Reader())
		if err != nil {
			t.Error(err)
		}
		got <- b
	}()
	for off := 0; off < len(want); off += 100_000 {
		if _, err := tail.Write(want[off:min(off+100_000, len(want))]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case <-got:
		t.Fatal("the reader ended before the writer closed")
	case <-time.After(50 * time.Millisecond):
	}
	tail.Close(nil)
	if b := <-got; !bytes.Equal(b, want) {
		t.Fatalf("read %d bytes, want the %d written", len(b), len(want))
	}
	// A reader that starts after the close reads it all too (WriteTo).
	var buf bytes.Buffer
	if _, err := tail.Reader().(io.WriterTo).WriteTo(&buf); err != nil || !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("WriteTo: %d bytes, %v", buf.Len(), err)
	}
}

// A writer that fails hands its error to the readers, after the bytes it
// did write.
func TestTailReaderGetsTheWritersError(t *testing.T) {
	tail := newTail(t)
	if _, err := tail.Write([]byte("partial")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("build failed")
	tail.Close(boom)
	b, err := io.ReadAll(tail.Reader())
	if string(b) != "partial" || !errors.Is(err, boom) {
		t.Fatalf("read %q, %v; want the written bytes and the writer's error", b, err)
	}
}
