//go:build linux || darwin

package blobber

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// skipWithoutFUSE skips the test, saying why, where no FUSE mount can be
// made.
func skipWithoutFUSE(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("skipping: a FUSE mount needs /dev/fuse, which cannot be opened here: %v", err)
	}
	f.Close()
}

// writeRandomFiles writes a file of each size under src, of bytes drawn
// from seed, and returns their bytes by name.
func writeRandomFiles(t *testing.T, src string, seed uint64, sizes map[string]int) map[string][]byte {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed+1))
	want := map[string][]byte{}
	for name, size := range sizes {
		data := make([]byte, size)
		for j := range data {
			data[j] = byte(r.Uint32())
		}
		want[name] = data
		if err := os.MkdirAll(filepath.Dir(filepath.Join(src, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return want
}

// mountForTest mounts img at a new directory, unmounted when the test ends.
func mountForTest(t *testing.T, img *Image) *Mounted {
	t.Helper()
	m, err := img.Mount(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Unmount(); err != nil {
			t.Error(err)
		}
	})
	return m
}

// readAllAtOnce reads every file of want through the mount m at once and
// checks its bytes; reads still waiting after two minutes fail the test
// as deadlocked.
func readAllAtOnce(t *testing.T, m *Mounted, want map[string][]byte) {
	t.Helper()
	var wg sync.WaitGroup
	for name, data := range want {
		wg.Go(func() {
			got, err := os.ReadFile(filepath.Join(m.Dir(), name))
			if err != nil {
				t.Error(err)
			} else if !bytes.Equal(got, data) {
				t.Errorf("%s differs through the mount", name)
			}
		})
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("reads through the mount still waiting after two minutes: deadlocked")
	}
}
