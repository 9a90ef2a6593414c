//go:build unix

package blobber_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// The check of a cache record (here the whole tree's: the tree was pushed
// before) hashes the tree's files, which it opens as the build does: a
// file swapped for a FIFO after the walk fails the check instead of
// blocking the push until someone writes to the FIFO.
func TestPushReuseCheckDoesNotHangOnASwappedInFIFO(t *testing.T) {
	reg := registrytest.Start(t)
	dir := t.TempDir()
	testtree.Must(t, os.WriteFile(filepath.Join(dir, "a.txt"), []byte("public\n"), 0o644))
	tree, err := blobber.OpenTree(dir)
	testtree.Must(t, err)
	defer tree.Close()
	c := newClient(t, blobber.WithCache(t.TempDir()))
	ctx := context.Background()
	_, err = c.Push(ctx, reg.Host()+"/reuse/fifo:v1", tree)
	testtree.Must(t, err)

	before := blobber.ClientCounts(c)
	err = pushSwappingInFIFO(t, c, reg.Host()+"/reuse/fifo:v2", tree, dir)
	if err == nil {
		t.Fatal("the push of a tree whose file became a FIFO succeeded")
	}
	if n := blobber.ClientCounts(c); n.RefusedRecords != before.RefusedRecords+1 || n.ReusedPushes != before.ReusedPushes {
		t.Errorf("refused %d records, reused %d pushes; want 1 and 0", n.RefusedRecords-before.RefusedRecords, n.ReusedPushes-before.ReusedPushes)
	}
}
