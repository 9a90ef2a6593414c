package pull

import (
	"fmt"
	"io"
	"math/rand"
	"path/filepath"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/blobber-dev/blobber/internal/compression"
	"github.com/blobber-dev/blobber/internal/extract"
)

// orderedReader is a layer's bytes that note how they are read: what was
// announced (ReadAhead), and any read that does not start where the one
// before ended or that overlaps another.
type orderedReader struct {
	io.ReaderAt
	mu        sync.Mutex
	announced [][2]int64
	next      int64
	reading   bool
	reads     int
	faults    []string
}

func (r *orderedReader) ReadAhead(off, n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.announced = append(r.announced, [2]int64{off, n})
}

func (r *orderedReader) ReadAt(p []byte, off int64) (int, error) {
	r.mu.Lock()
	if r.reading {
		r.faults = append(r.faults, fmt.Sprintf("read at %d while another ran", off))
	}
	if off != r.next {
		r.faults = append(r.faults, fmt.Sprintf("read at %d after a read that ended at %d", off, r.next))
	}
	r.reading, r.next = true, off+int64(len(p))
	r.reads++
	r.mu.Unlock()
	time.Sleep(2 * time.Millisecond) // room for another read to overlap
	defer func() { r.mu.Lock(); r.reading = false; r.mu.Unlock() }()
	return r.ReaderAt.ReadAt(p, off)
}

// A pull reads each layer in blob order, one read at a time, after telling
// its reader so (which then asks the registry for it in one request);
// decoding and writing still run in parallel.
func TestPullReadsALayerInOrder(t *testing.T) {
	content := make([]byte, 2<<20)
	rand.New(rand.NewSource(2)).Read(content)
	tree := fstest.MapFS{}
	for i := range 6 {
		tree[fmt.Sprintf("f%02d", i)] = &fstest.MapFile{Data: content[i<<10:], Mode: 0o644}
	}
	a := builtArtifact(t, tree, compression.Gzip)
	size := a.Layers[0].Size
	data := &orderedReader{ReaderAt: a.Layers[0].Data}
	a.Layers[0].Data = data
	d, err := extract.Open(filepath.Join(t.TempDir(), "out"), extract.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Abort()
	if err := Into(t.Context(), d, a, Options{Concurrency: 8}); err != nil {
		t.Fatal(err)
	}
	if len(data.announced) != 1 || data.announced[0] != [2]int64{0, size} {
		t.Errorf("announced %v, want the whole layer of %d bytes", data.announced, size)
	}
	if data.reads < 3 || data.next != size || len(data.faults) > 0 {
		t.Errorf("%d reads ending at %d of %d: %v", data.reads, data.next, size, data.faults)
	}
}
