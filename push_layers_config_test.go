package blobber

import (
	"bytes"
	"encoding/json"
	"io"
	"runtime"
	"testing"
	"time"

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

// The collector keeps no tail in memory, and staging the config holds
// neither the tails nor their base64: a split push of many files has tails
// of some MiB, which would add to the builds' peak.
func TestTailCollectorHoldsNoTails(t *testing.T) {
	const layers, tailSize = 4, 2 << 20
	before := liveHeapBytes()
	tc := newTailCollector(layers)
	defer tc.close()
	for i := range layers {
		tail := bytes.Repeat([]byte{byte(i)}, tailSize)
		tc.add(i, ocispec.Descriptor{Digest: digest.FromBytes(tail)}, tail)
	}
	if held := liveHeapBytes() - before; held > tailSize/4 {
		t.Errorf("the collector holds %d bytes for %d tails of %d", held, layers, tailSize)
	}
	var peak peakHeap
	peak.start()
	_, open, err := tc.stageConfig([]digest.Digest{"sha256:x"}, ocispec.Platform{OS: "linux", Architecture: "amd64"})
	peak.stop()
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, open())
	if err != nil || n < layers*tailSize*4/3 {
		t.Fatalf("config of %d bytes, %v", n, err)
	}
	if got := peak.max - before; got > tailSize {
		t.Errorf("staging the config of %d tails of %d bytes took the live heap %d bytes higher", layers, tailSize, got)
	}
	runtime.KeepAlive(tc)
}

func liveHeapBytes() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// peakHeap samples the heap's allocated bytes (garbage included, an upper
// bound of what is live) while a call runs.
type peakHeap struct {
	max  int64
	done chan struct{}
	quit chan struct{}
}

func (p *peakHeap) start() {
	p.done, p.quit = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(p.done)
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			p.max = max(p.max, int64(ms.HeapAlloc))
			select {
			case <-p.quit:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
}

func (p *peakHeap) stop() { close(p.quit); <-p.done }
