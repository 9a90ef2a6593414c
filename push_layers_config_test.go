package blobber

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The config a split push stages, its tails streamed from the spool as
// base64, is byte for byte the one json.Marshal makes of the tails held in
// memory (tails of every length modulo 3, so every padding of base64),
// and its descriptor names those bytes.
func TestStagedConfigIsTheMarshalledOne(t *testing.T) {
	tails := [][]byte{{0xff}, []byte("<&>\x00"), bytes.Repeat([]byte{0xfb, 0x01}, 70000)}
	tc := newTailCollector(len(tails))
	defer tc.close()
	var want []configTOC
	var diffIDs []digest.Digest
	for i, tail := range tails {
		want = append(want, configTOC{Digest: digest.FromBytes(tail), TOCDigest: digest.FromString(string(rune('a' + i))), Tail: tail})
		diffIDs = append(diffIDs, digest.FromString(string(rune('x'+i))))
	}
	// The tails come in any order, as their builds end.
	for i := len(tails) - 1; i >= 0; i-- {
		tc.add(i, ocispec.Descriptor{Digest: want[i].Digest, Annotations: map[string]string{"containerd.io/snapshot/stargz/toc.digest": want[i].TOCDigest.String()}}, tails[i])
	}
	if !tc.complete() {
		t.Fatal("every tail was added, and the collector says not")
	}
	p := ocispec.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}
	desc, open, err := tc.stageConfig(diffIDs, p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(open())
	if err != nil {
		t.Fatal(err)
	}
	marshalled, err := json.Marshal(indexedConfig{
		Image: ocispec.Image{Platform: p, RootFS: ocispec.RootFS{Type: "layers", DiffIDs: diffIDs}},
		TOCs:  &configTOCs{Layers: want},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, marshalled) {
		t.Fatalf("staged config of %d bytes differs from the marshalled one of %d", len(got), len(marshalled))
	}
	if desc.Digest != digest.FromBytes(got) || desc.Size != int64(len(got)) || desc.MediaType != ocispec.MediaTypeImageConfig {
		t.Fatalf("descriptor %v does not name the staged config", desc)
	}
}
