package blobber_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// A split push of many files has a config too big to show (it holds the
// layers' TOCs), but Inspect still gives every layer's diffID from it.
func TestInspectSplitPushWithABigConfig(t *testing.T) {
	defer blobber.SetSplitLimits(2<<10, 1<<40, 1<<40, 1<<40)()
	reg := registrytest.Start(t)
	ctx := context.Background()
	src := t.TempDir()
	files := map[string]string{"zz/big.bin": strings.Repeat("b", 8<<10)}
	for i := range 4000 {
		files[fmt.Sprintf("d%02d/a-rather-long-file-name-%06d.txt", i/100, i)] = fmt.Sprint(i)
	}
	testtree.Write(t, src, files)
	ref := reg.Host() + "/inspect/bigconfig:v1"
	_, err := newClient(t).Push(ctx, ref, os.DirFS(src), blobber.WithLayers(blobber.LayersAuto))
	testtree.Must(t, err)

	in, err := newClient(t).Inspect(ctx, ref)
	testtree.Must(t, err)
	if len(in.Layers) < 2 {
		t.Fatalf("%d layers, want a split push", len(in.Layers))
	}
	if in.Config.Size <= 64<<10 || in.ConfigContent != nil {
		t.Fatalf("config of %d bytes (content shown: %v): the test needs one too big to show", in.Config.Size, in.ConfigContent != nil)
	}
	seen := map[string]bool{}
	for i, l := range in.Layers {
		if l.DiffID == "" || seen[l.DiffID.String()] {
			t.Fatalf("layer %d: diffID %q (seen before: %v)", i, l.DiffID, seen[l.DiffID.String()])
		}
		seen[l.DiffID.String()] = true
	}
}
