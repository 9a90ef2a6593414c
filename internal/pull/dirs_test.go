package pull

import (
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/blobber-dev/blobber/internal/extract"
)

// readSignal is a layer's bytes that report their first read.
type readSignal struct {
	io.ReaderAt
	once sync.Once
	read chan struct{}
}

func (r *readSignal) ReadAt(p []byte, off int64) (int, error) {
	r.once.Do(func() { close(r.read) })
	return r.ReaderAt.ReadAt(p, off)
}

// The layer's bytes are requested while the directories are being made,
// not after: on a file system where every create costs, making a tree's
// directories first held back every request. The directories are still
// all made, with the files in them.
func TestFetchStartsBeforeTheDirectories(t *testing.T) {
	a := layerOf(t, "a/", "a/b/", "a/b/f", "c/", "c/g", "c/empty/", "h")
	data := &readSignal{ReaderAt: a.Layers[0].Data, read: make(chan struct{})}
	a.Layers[0].Data = data
	testHookBeforeDirs = func() {
		select {
		case <-data.read:
		case <-time.After(30 * time.Second): // a pull that makes the directories first never reads
			t.Error("no byte of the layer was read before the directories were made")
		}
	}
	defer func() { testHookBeforeDirs = nil }()
	out := filepath.Join(t.TempDir(), "out")
	d, err := extract.Open(out, extract.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := Into(t.Context(), d, a, Options{Concurrency: 2}); err != nil {
		d.Abort()
		t.Fatal(err)
	}
	if err := d.Commit(); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"a/b/f": "data of a/b/f", "c/g": "data of c/g", "h": "data of h"} {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil || string(got) != want {
			t.Errorf("%s: %q, %v; want %q", name, got, err, want)
		}
	}
	for _, dir := range []string{"a", "a/b", "c", "c/empty"} {
		if fi, err := os.Stat(filepath.Join(out, dir)); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o755 {
			t.Errorf("%s: %v, %v; want a directory of mode 0755", dir, fi, err)
		}
	}
}
