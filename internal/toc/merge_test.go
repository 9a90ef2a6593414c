package toc

import (
	"bytes"
	"context"
	"errors"
	"testing"

	digest "github.com/opencontainers/go-digest"

	"github.com/blobber-dev/blobber/internal/compression"
	ta "github.com/blobber-dev/blobber/internal/testartifact"
)

func readLayer(t *testing.T, entries ...ta.Entry) *Index {
	t.Helper()
	l, err := ta.NewLayer(entries...)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := Read(context.Background(), bytes.NewReader(l.Blob), int64(len(l.Blob)), compression.Gzip, digest.Digest(l.Desc.Annotations["containerd.io/snapshot/stargz/toc.digest"]), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

// Merge keeps each layer's totals, counts a directory several layers
// hold once, and marks every chunk with its layer.
func TestMerge(t *testing.T) {
	a := readLayer(t, ta.Dir("d"), ta.File("d/a", "alpha", 0o644), ta.File("top", "t", 0o644))
	b := readLayer(t, ta.Dir("d"), ta.File("d/b", "bravo!", 0o644), ta.Hardlink("d/c", "d/b"))
	ix, err := Merge([]*Index{a, b}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if ix.Files != 5 || ix.TotalBytes != 12 || len(ix.Layers) != 2 || ix.BlobSize != ix.Layers[0].BlobSize+ix.Layers[1].BlobSize {
		t.Fatalf("merged: %d files, %d bytes, layers %+v, blob %d", ix.Files, ix.TotalBytes, ix.Layers, ix.BlobSize)
	}
	for name, layer := range map[string]int{"d/a": 0, "top": 0, "d/b": 1} {
		e, ok := ix.Lookup(name)
		if !ok {
			t.Fatalf("%s missing", name)
		}
		if got, ok := LayerOf(e); !ok || got != layer {
			t.Errorf("%s is in layer %d (%v), want %d", name, got, ok, layer)
		}
	}
	if e, ok := ix.Lookup("d/c"); !ok || e.Type != TypeHardlink || e.LinkName() != "d/b" {
		t.Errorf("hardlink d/c: %+v", e)
	}
	d, _ := ix.Lookup("d")
	var names []string
	for _, c := range d.Children() {
		names = append(names, c.Name)
	}
	if got := len(names); got != 3 || names[0] != "d/a" || names[1] != "d/b" || names[2] != "d/c" {
		t.Errorf("d holds %v", names)
	}
}

// The merged tree is held to the limits as a whole.
func TestMergeLimits(t *testing.T) {
	a := readLayer(t, ta.File("a", "12345", 0o644))
	b := readLayer(t, ta.File("b", "67890", 0o644))
	if _, err := Merge([]*Index{a, b}, Limits{MaxBytes: 8}); !errors.Is(err, ErrLimit) {
		t.Fatalf("bytes: %v", err)
	}
	a = readLayer(t, ta.File("a", "12345", 0o644))
	b = readLayer(t, ta.File("b", "67890", 0o644))
	if _, err := Merge([]*Index{a, b}, Limits{MaxEntries: 1}); !errors.Is(err, ErrLimit) {
		t.Fatalf("entries: %v", err)
	}
}
