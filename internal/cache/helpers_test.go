package cache

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	digest "github.com/opencontainers/go-digest"
)

// fakeRemote is an in-memory blob that records every range asked of it.
type fakeRemote struct {
	data []byte

	mu    sync.Mutex
	calls []span
}

func (r *fakeRemote) ReadAt(p []byte, off int64) (int, error) {
	r.mu.Lock()
	r.calls = append(r.calls, span{off, off + int64(len(p))})
	r.mu.Unlock()
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if off >= int64(len(r.data)) {
		return 0, io.EOF
	}
	n := copy(p, r.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// takeCalls returns the recorded calls and forgets them.
func (r *fakeRemote) takeCalls() []span {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.calls
	r.calls = nil
	return c
}

func (r *fakeRemote) bytesFetched() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var n int64
	for _, s := range r.calls {
		n += s.end - s.start
	}
	return n
}

func testData(seed byte, n int) []byte {
	var s [32]byte
	s[0] = seed
	b := make([]byte, n)
	rand.NewChaCha8(s).Read(b)
	return b
}

func openCache(t testing.TB, dir string) *Cache {
	t.Helper()
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// fixture is a cache, a blob's bytes and digest, and a remote serving it.
type fixture struct {
	dir    string
	c      *Cache
	data   []byte
	dgst   digest.Digest
	remote *fakeRemote
}

func newFixture(t testing.TB, size int) *fixture {
	t.Helper()
	dir := t.TempDir()
	data := testData(1, size)
	return &fixture{dir: dir, c: openCache(t, dir), data: data, dgst: digest.FromBytes(data), remote: &fakeRemote{data: data}}
}

func (f *fixture) blob(t testing.TB) *Blob {
	t.Helper()
	b := f.c.Blob(f.dgst, int64(len(f.data)), f.remote)
	t.Cleanup(func() { b.Close() })
	return b
}

func (f *fixture) hex() string { return f.dgst.Encoded() }

func (f *fixture) path(rel string) string { return filepath.Join(f.dir, filepath.FromSlash(rel)) }

// mustRead reads [off, off+n) and checks it against want.
func mustRead(t testing.TB, b *Blob, want []byte, off, n int64) {
	t.Helper()
	p := make([]byte, n)
	got, err := b.ReadAt(p, off)
	if err != nil || int64(got) != n {
		t.Fatalf("ReadAt(%d, %d) = %d, %v", off, n, got, err)
	}
	if !bytes.Equal(p, want[off:off+n]) {
		t.Fatalf("ReadAt(%d, %d) returned wrong bytes", off, n)
	}
}

func wantCalls(t testing.TB, r *fakeRemote, want ...span) {
	t.Helper()
	if got := r.takeCalls(); !slices.Equal(got, want) {
		t.Fatalf("remote calls = %v, want %v", got, want)
	}
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func writeJSON(t testing.TB, path string, v any) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
