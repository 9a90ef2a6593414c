package layer

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/containerd/stargz-snapshotter/estargz"
	"github.com/containerd/stargz-snapshotter/estargz/zstdchunked"
	"github.com/klauspost/compress/zstd"
	digest "github.com/opencontainers/go-digest"

	"github.com/blobber-dev/blobber/internal/compression"
)

// withSpoolMemory makes spools spill to disk past n bytes for one test.
func withSpoolMemory(t *testing.T, n int) {
	old := spoolMemory
	spoolMemory = n
	t.Cleanup(func() { spoolMemory = old })
}

// The TOC member and footer of a blob are byte for byte what estargz's own
// WriteTOCAndFooter writes for the TOC the blob holds, and the diffID covers
// what it feeds the diffID hash.
func TestTOCIsWhatEstargzWrites(t *testing.T) {
	trees := []struct {
		name string
		tree fstest.MapFS
	}{
		{"empty", fstest.MapFS{}},
		{"one-dir", fstest.MapFS{"d": {Mode: fs.ModeDir | 0o755}}},
		{"sample", sampleTree()},
		{"wide", wideTree(1500)},
	}
	for _, comp := range []compression.Compression{compression.Gzip, compression.Zstd} {
		for _, tr := range trees {
			for _, spill := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/spill=%v", comp, tr.name, spill), func(t *testing.T) {
					if spill {
						skipUnderRace(t)
						withSpoolMemory(t, 700)
					}
					blob, res := build(t, tr.tree, Options{Compression: comp, ChunkSize: 16 << 10, Workers: 2, TempDir: t.TempDir()})
					off, want, diffID := estargzTail(t, blob, comp)
					if got := blob[off:]; !bytes.Equal(got, want) {
						t.Fatalf("TOC and footer differ from estargz's (%d bytes, want %d)", len(got), len(want))
					}
					if res.DiffID != diffID {
						t.Errorf("diffID %s, estargz gives %s", res.DiffID, diffID)
					}
				})
			}
		}
	}
}

// estargzTail reads the TOC of blob and returns where it starts, what
// estargz's WriteTOCAndFooter writes for it there, and the diffID that
// results.
func estargzTail(t *testing.T, blob []byte, comp compression.Compression) (int64, []byte, digest.Digest) {
	t.Helper()
	var (
		off     int64
		toc     *estargz.JTOC
		payload io.Reader = bytes.NewReader(nil)
		writer  estargz.Compressor
		err     error
	)
	switch comp {
	case compression.Gzip:
		var dec estargz.GzipDecompressor
		_, off, _, err = dec.ParseFooter(blob[len(blob)-estargz.FooterSize:])
		if err != nil {
			t.Fatal(err)
		}
		if toc, _, err = dec.ParseTOC(bytes.NewReader(blob[off : len(blob)-estargz.FooterSize])); err != nil {
			t.Fatal(err)
		}
		if off > 0 {
			if payload, err = gzip.NewReader(bytes.NewReader(blob[:off])); err != nil {
				t.Fatal(err)
			}
		}
		writer = estargz.NewGzipCompressorWithLevel(gzip.DefaultCompression)
	case compression.Zstd:
		var dec zstdchunked.Decompressor
		var tocOff, tocSize int64
		off, tocOff, tocSize, err = dec.ParseFooter(blob[len(blob)-zstdchunked.FooterSize:])
		if err != nil {
			t.Fatal(err)
		}
		if toc, _, err = dec.ParseTOC(bytes.NewReader(blob[tocOff : tocOff+tocSize])); err != nil {
			t.Fatal(err)
		}
		zr, err := zstd.NewReader(bytes.NewReader(blob[:off]))
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		payload = zr
		writer = &zstdchunked.Compressor{CompressionLevel: zstd.SpeedDefault}
	}
	diffHash := sha256.New()
	if _, err := io.Copy(diffHash, payload); err != nil {
		t.Fatal(err)
	}
	var tail bytes.Buffer
	if _, err := writer.WriteTOCAndFooter(&tail, off, toc, diffHash); err != nil {
		t.Fatal(err)
	}
	return off, tail.Bytes(), digest.NewDigest(digest.SHA256, diffHash)
}

// rawCodec writes the TOC JSON as it is, for tests of the rendering.
type rawCodec struct{}

func (rawCodec) held() int64 { return 0 }

func (rawCodec) compress(*bytes.Buffer, []byte) error {
	return errors.New("rawCodec compresses nothing")
}

func (rawCodec) writeTOC(w io.Writer, _ int64, json io.Reader, size int64, _ io.Writer) error {
	n, err := io.Copy(w, json)
	if err == nil && n != size {
		err = fmt.Errorf("copied %d bytes of %d", n, size)
	}
	return err
}

// Entries rendered one by one, with digests written over placeholders
// later, in memory or spilled to a file, make the JSON that
// json.MarshalIndent makes of the whole TOC, and its digest.
func TestTOCWriterRendersLikeMarshalIndent(t *testing.T) {
	entry := func(i int) *estargz.TOCEntry {
		switch i % 4 {
		case 0:
			return &estargz.TOCEntry{Name: fmt.Sprintf("dir%d/", i), Type: "dir", Mode: 0o755, ModTime3339: "1970-01-01T00:00:00Z"}
		case 1:
			// A name holding what the placeholder search looks for.
			return &estargz.TOCEntry{Name: fmt.Sprintf("f%d\n\t\t\t\"digest\": \"%s\" <&>\u2028", i, digestPlaceholder), Type: "reg", Size: 40, Mode: 0o644,
				ModTime3339: "2023-11-14T22:13:20Z", Offset: int64(i) * 1000, ChunkSize: 20, ChunkDigest: digest.FromString(fmt.Sprint(i)).String()}
		case 2:
			return &estargz.TOCEntry{Name: fmt.Sprintf("f%d\n\t\t\t\"digest\": \"%s\" <&>\u2028", i-1, digestPlaceholder), Type: "chunk", Offset: int64(i) * 1000, ChunkOffset: 20, ChunkDigest: digest.FromString(fmt.Sprint(i)).String()}
		default:
			return &estargz.TOCEntry{Name: fmt.Sprintf("l%d", i), Type: "symlink", LinkName: "../x", Mode: 0o777, ModTime3339: "1970-01-01T00:00:00Z"}
		}
	}
	for _, n := range []int{0, 1, 2, 3, 4, 7, 100} {
		for _, memory := range []int{1 << 20, 300, 1} {
			t.Run(fmt.Sprintf("%d-entries/spool-%d", n, memory), func(t *testing.T) {
				withSpoolMemory(t, memory)
				var want []*estargz.TOCEntry
				tw := newTOCWriter(t.TempDir())
				defer tw.close()
				var late []string
				for i := range n {
					e := entry(i)
					want = append(want, e)
					rendered := *e
					if e.Type == "reg" {
						e.Digest = digest.FromString(e.Name).String()
						rendered.Digest = digestPlaceholder
						late = append(late, e.Digest)
					}
					if err := tw.add(&rendered); err != nil {
						t.Fatal(err)
					}
					// Digests arrive a batch later, in order.
					if i%3 == 2 {
						for _, d := range late {
							if err := tw.setDigest(d); err != nil {
								t.Fatal(err)
							}
						}
						late = nil
					}
				}
				for _, d := range late {
					if err := tw.setDigest(d); err != nil {
						t.Fatal(err)
					}
				}
				var got bytes.Buffer
				tocDigest, err := tw.finish(&got, 0, rawCodec{}, io.Discard)
				if err != nil {
					t.Fatal(err)
				}
				wantJSON, err := json.MarshalIndent(&estargz.JTOC{Version: 1, Entries: want}, "", "\t")
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got.Bytes(), wantJSON) {
					t.Fatalf("rendered TOC differs from MarshalIndent:\n%s\nwant\n%s", got.Bytes(), wantJSON)
				}
				if tocDigest != digest.FromBytes(wantJSON) {
					t.Fatalf("TOC digest %s, want %s", tocDigest, digest.FromBytes(wantJSON))
				}
			})
		}
	}
}

func TestTOCWriterChecksDigests(t *testing.T) {
	tw := newTOCWriter(t.TempDir())
	defer tw.close()
	if err := tw.setDigest(digest.FromString("x").String()); err == nil {
		t.Fatal("a digest without a placeholder was accepted")
	}
	if err := tw.add(&estargz.TOCEntry{Name: "f", Type: "reg", Size: 1, Digest: digestPlaceholder}); err != nil {
		t.Fatal(err)
	}
	if err := tw.setDigest("sha256:short"); err == nil {
		t.Fatal("a digest of the wrong length was accepted")
	}
	if _, err := tw.finish(io.Discard, 0, rawCodec{}, io.Discard); err == nil {
		t.Fatal("a TOC with a placeholder left was finished")
	}
}
