package blobber_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// Eight pulls of one reference into eight directories, and eight pushes of
// different trees into one repository, all at once and sharing a cache.
func TestConcurrentPullsAndPushes(t *testing.T) {
	reg := registrytest.Start(t)
	ctx := context.Background()
	c := newClient(t, blobber.WithCache(t.TempDir()))
	src, _, _ := cacheTree(t)
	ref := reg.Host() + "/concurrent/tree:v1"
	_, err := c.Push(ctx, ref, os.DirFS(src))
	testtree.Must(t, err)

	var g errgroup.Group
	out := t.TempDir()
	for i := range 8 {
		g.Go(func() error {
			_, err := c.Pull(ctx, ref, filepath.Join(out, fmt.Sprint(i)))
			return err
		})
	}
	testtree.Must(t, g.Wait())
	for i := range 8 {
		testtree.Equal(t, src, filepath.Join(out, fmt.Sprint(i)))
	}

	trees := make([]string, 8)
	for i := range trees {
		trees[i] = t.TempDir()
		testtree.Write(t, trees[i], map[string]string{"id.txt": fmt.Sprint("tree ", i), "shared/readme": "same in all"})
	}
	for i := range 8 {
		g.Go(func() error {
			_, err := c.Push(ctx, fmt.Sprintf("%s/concurrent/many:t%d", reg.Host(), i), os.DirFS(trees[i]))
			return err
		})
	}
	testtree.Must(t, g.Wait())
	tags, err := c.Tags(ctx, reg.Host()+"/concurrent/many")
	testtree.Must(t, err)
	if len(tags) != 8 {
		t.Fatalf("tags = %v", tags)
	}
	for i := range 8 {
		img, err := c.Open(ctx, fmt.Sprintf("%s/concurrent/many:t%d", reg.Host(), i))
		testtree.Must(t, err)
		data, err := img.ReadFile("id.txt")
		testtree.Must(t, err)
		if string(data) != fmt.Sprint("tree ", i) {
			t.Errorf("t%d holds %q", i, data)
		}
		img.Close()
	}
}
