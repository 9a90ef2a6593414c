package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
	"testing/fstest"

	"github.com/containerd/stargz-snapshotter/estargz"
	"github.com/containerd/stargz-snapshotter/estargz/zstdchunked"
	"github.com/klauspost/compress/zstd"
	digest "github.com/opencontainers/go-digest"

	"github.com/blobber-dev/blobber/internal/compression"
	"github.com/blobber-dev/blobber/internal/toc"
)

// emptyFiles is a tree of n empty files with short names, whose tar headers
// take 512 bytes each: 2048 of them fill a member up to its cut.
func emptyFiles(n int) fstest.MapFS {
	tree := fstest.MapFS{}
	for i := range n {
		tree[fmt.Sprintf("e%05d", i)] = &fstest.MapFile{Mode: 0o644}
	}
	return tree
}

// With zstd, the tar headers of a long run of entries without content are
// cut into frames of their own of about batchTarget bytes, which estargz
// and internal/toc read like any other blob: no TOC entry points at them.
func TestZstdRunsAreCutIntoFrames(t *testing.T) {
	for _, c := range []struct {
		name   string
		tree   fstest.MapFS
		frames int // of tar headers alone, and the one that ends the tar
	}{
		{"runs", runsTree(), 8 + 1},
		// Cut right after the last entry: no empty frame follows.
		{"two-cuts-exactly", emptyFiles(2 * batchTarget / tarBlock), 2 + 1},
		{"short-run", emptyFiles(batchTarget/tarBlock - 1), 1 + 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			blob, res := build(t, c.tree, Options{Compression: compression.Zstd, ChunkSize: 16 << 10, Workers: 3})
			payloadEnd, _, _, err := new(zstdchunked.Decompressor).ParseFooter(blob[len(blob)-zstdchunked.FooterSize:])
			if err != nil {
				t.Fatal(err)
			}

			r, err := estargz.Open(io.NewSectionReader(bytes.NewReader(blob), 0, int64(len(blob))), estargz.WithDecompressors(new(zstdchunked.Decompressor)))
			if err != nil {
				t.Fatalf("estargz.Open: %v", err)
			}
			if _, err := r.VerifyTOC(res.TOCDigest); err != nil {
				t.Fatalf("VerifyTOC: %v", err)
			}
			chunkAt := map[int64]int64{} // member offset: chunk size
			for name, f := range c.tree {
				e, ok := r.Lookup(name)
				if !ok {
					t.Fatalf("estargz: %s missing", name)
				}
				if f.Mode.IsRegular() && len(f.Data) > 0 {
					for off := int64(0); off < e.Size; {
						ce, ok := r.ChunkEntryForOffset(name, off)
						if !ok {
							t.Fatalf("estargz: %s: no chunk at %d", name, off)
						}
						chunkAt[ce.Offset] = ce.ChunkSize
						off += ce.ChunkSize
					}
				}
			}
			readAll(t, c.tree, func(name string, size int64) ([]byte, error) {
				sr, err := r.OpenFile(name)
				if err != nil {
					return nil, err
				}
				return io.ReadAll(io.NewSectionReader(sr, 0, size))
			})

			ix, err := toc.Read(context.Background(), bytes.NewReader(blob), int64(len(blob)), compression.Zstd, res.TOCDigest, toc.Limits{})
			if err != nil {
				t.Fatalf("toc.Read: %v", err)
			}
			readAll(t, c.tree, func(name string, _ int64) ([]byte, error) {
				e, ok := ix.Lookup(name)
				if !ok {
					return nil, fmt.Errorf("not in the index")
				}
				var data []byte
				for _, ch := range e.Chunks() {
					b, err := ix.Fetch(bytes.NewReader(blob), ch, nil)
					if err != nil {
						return nil, err
					}
					data = append(data, b...)
				}
				return data, nil
			})

			// Every frame is a member of its own; one that no chunk opens
			// holds tar headers alone, a run's worth at most.
			dec, err := zstd.NewReader(nil)
			if err != nil {
				t.Fatal(err)
			}
			defer dec.Close()
			var tarBytes []byte
			headerFrames := 0
			for _, f := range zstdFrames(t, blob[:payloadEnd]) {
				off := f.offset
				raw, err := dec.DecodeAll(f.data, nil)
				if err != nil {
					t.Fatalf("frame at %d: %v", off, err)
				}
				tarBytes = append(tarBytes, raw...)
				headers := int64(len(raw)) - chunkAt[off]
				if headers > batchTarget+4*tarBlock || len(raw) == 0 {
					t.Errorf("frame at %d: %d bytes of tar headers", off, headers)
				}
				if _, ok := chunkAt[off]; !ok {
					headerFrames++
				}
			}
			if headerFrames != c.frames {
				t.Errorf("%d frames of tar headers alone, want %d", headerFrames, c.frames)
			}
			if d := digest.FromBytes(tarBytes); d != res.DiffID {
				t.Errorf("frames decode to %s, the diffID is %s", d, res.DiffID)
			}
			tr := tar.NewReader(bytes.NewReader(tarBytes))
			entries := 0
			for {
				if _, err := tr.Next(); err == io.EOF {
					break
				} else if err != nil {
					t.Fatalf("tar: %v", err)
				}
				entries++
			}
			if entries != res.Entries {
				t.Errorf("%d tar entries, want %d", entries, res.Entries)
			}
		})
	}
}

// readAll checks that read gives back every regular file of tree.
func readAll(t *testing.T, tree fstest.MapFS, read func(name string, size int64) ([]byte, error)) {
	t.Helper()
	for name, f := range tree {
		if !f.Mode.IsRegular() {
			continue
		}
		got, err := read(name, int64(len(f.Data)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(got, f.Data) {
			t.Fatalf("%s: %d bytes read back, want %d", name, len(got), len(f.Data))
		}
	}
}

type zstdFrame struct {
	offset int64
	data   []byte
}

// zstdFrames splits a sequence of zstd frames.
func zstdFrames(t *testing.T, b []byte) []zstdFrame {
	t.Helper()
	var frames []zstdFrame
	for off := 0; off < len(b); {
		var h zstd.Header
		if err := h.Decode(b[off:]); err != nil || h.Skippable {
			t.Fatalf("frame at %d: %v (skippable %v)", off, err, h.Skippable)
		}
		end := off + h.HeaderSize
		for last := false; !last; {
			if end+3 > len(b) {
				t.Fatalf("frame at %d: truncated", off)
			}
			bh := uint32(b[end]) | uint32(b[end+1])<<8 | uint32(b[end+2])<<16
			last = bh&1 == 1
			size := int(bh >> 3)
			if (bh>>1)&3 == 1 { // RLE: one byte, repeated
				size = 1
			}
			end += 3 + size
		}
		if h.HasCheckSum {
			end += 4
		}
		if end > len(b) {
			t.Fatalf("frame at %d: truncated", off)
		}
		frames = append(frames, zstdFrame{int64(off), b[off:end]})
		off = end
	}
	return frames
}
