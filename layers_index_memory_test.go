package blobber

import (
	"bytes"
	"encoding/json"
	"runtime"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Reading the layers' tails from a config allocates the tails and the
// decoder's window on the entry being decoded, not a copy of the config's
// list of tails: at hundreds of thousands of files the config is some
// MiB, and a copy of it sat beside it, the tails and the index being
// built.
func TestConfigTailsDecodeWithoutACopy(t *testing.T) {
	const layers, tailSize = 8, 1 << 20
	var want []configTOC
	for i := range layers {
		tail := bytes.Repeat([]byte{byte(i), 0xfe, 0x01}, tailSize/3)
		want = append(want, configTOC{Digest: digest.FromBytes(tail), TOCDigest: digest.FromString("toc"), Tail: tail})
	}
	raw, err := json.Marshal(indexedConfig{
		Image: ocispec.Image{Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"}, History: []ocispec.History{{CreatedBy: "blobber"}}},
		TOCs:  &configTOCs{Layers: want},
	})
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got, err := decodeConfigTOCs(raw, layers)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i].Digest != want[i].Digest || !bytes.Equal(got[i].Tail, want[i].Tail) {
			t.Fatalf("tail %d differs", i)
		}
	}
	tails := int64(layers * tailSize)
	allocated := int64(after.TotalAlloc - before.TotalAlloc)
	t.Logf("config %d bytes, tails %d, decoding allocated %d", len(raw), tails, allocated)
	if bound := tails + int64(len(raw))/2; allocated > bound {
		t.Errorf("decoding a config of %d bytes with %d bytes of tails allocated %d, more than %d", len(raw), tails, allocated, bound)
	}
}
