//go:build linux || darwin

package blobber_test

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// Through the mount, whose reads the kernel sends ahead of the reader, in
// the background and several at a time: a file read in order is fetched
// chunk by chunk, each chunk once; a small read in the middle of a big
// file afterwards (another open) fetches just the chunk it covers.
func TestMountSequentialReadFetchesEachChunkOnce(t *testing.T) {
	needFUSE(t)
	const chunks, chunk = 48, 256 << 10
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	ctx := context.Background()
	src := t.TempDir()
	data := make([]byte, chunks*chunk)
	r := rand.New(rand.NewPCG(5, 6))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	testtree.Must(t, os.WriteFile(filepath.Join(src, "big.bin"), data, 0o644))
	other := bytes.Clone(data)
	for i := range other {
		other[i] ^= 0x5a
	}
	testtree.Must(t, os.WriteFile(filepath.Join(src, "other.bin"), other, 0o644))
	c := newClient(t)
	ref := proxy.Host() + "/test/mount-sequential:v1"
	_, err := c.Push(ctx, ref, os.DirFS(src), blobber.WithChunkSize(chunk))
	testtree.Must(t, err)
	img, err := c.Open(ctx, ref)
	testtree.Must(t, err)
	defer img.Close()
	m := mountImage(t, img)

	proxy.Reset()
	f, err := os.Open(filepath.Join(m.Dir(), "big.bin"))
	testtree.Must(t, err)
	got, err := io.ReadAll(f)
	f.Close()
	testtree.Must(t, err)
	if !bytes.Equal(got, data) {
		t.Fatal("big.bin differs through the mount")
	}
	st := proxy.Stats()
	t.Logf("sequential read of %d chunks: %d blob requests, %d bytes", chunks, st.BlobRequests, st.BlobBytes)
	if st.BlobRequests > chunks || st.BlobBytes > int64(len(data))+int64(len(data))/8 {
		t.Errorf("a sequential read of %d chunks made %d blob requests for %d bytes: want each chunk fetched once", chunks, st.BlobRequests, st.BlobBytes)
	}

	proxy.Reset()
	f, err = os.Open(filepath.Join(m.Dir(), "other.bin"))
	testtree.Must(t, err)
	defer f.Close()
	p := make([]byte, 4096)
	at := int64(chunks/2*chunk + 1000)
	_, err = f.ReadAt(p, at)
	testtree.Must(t, err)
	if !bytes.Equal(p, other[at:at+4096]) {
		t.Fatal("other.bin differs through the mount")
	}
	if st := proxy.Stats(); st.BlobBytes > chunk+chunk/8 {
		t.Errorf("a 4 KiB read in the middle of a file fetched %d bytes of blob in %d requests, more than its chunk", st.BlobBytes, st.BlobRequests)
	}
}
