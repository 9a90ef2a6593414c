package toc

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/blobber-dev/blobber/internal/compression"
	ta "github.com/blobber-dev/blobber/internal/testartifact"
	digest "github.com/opencontainers/go-digest"
)

// allocated is how many bytes f allocates (runtime.MemStats.TotalAlloc),
// pools and garbage included: a decoder that allocates a window it was
// told of shows here whether or not it ever touches it.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

const hugeWindow = 512 << 20

// zstdTwoFiles is a zstd:chunked blob of two small files, and its TOC
// digest.
func zstdTwoFiles(t *testing.T) ([]byte, digest.Digest) {
	t.Helper()
	blob, d, _, err := ta.EStargzWith(ta.Tar(
		ta.File("a", strings.Repeat("alpha ", 20000), 0o644),
		ta.File("b", "bravo-content", 0o644),
	), ta.Options{Zstd: true})
	if err != nil {
		t.Fatal(err)
	}
	return blob, d
}

// readAllChunks reads every file of blob through the index.
func readAllChunks(t *testing.T, blob []byte, d digest.Digest) error {
	t.Helper()
	ix, err := Read(context.Background(), bytes.NewReader(blob), int64(len(blob)), compression.Zstd, d, Limits{})
	if err != nil {
		return err
	}
	return ix.Walk(func(e *Entry) error {
		for _, c := range e.Chunks() {
			if _, err := ix.Fetch(bytes.NewReader(blob), c, nil); err != nil {
				return err
			}
		}
		return nil
	})
}

// Chunk frames that declare a huge window (or a huge content size, which
// a decoder takes for the window) are refused as corrupt before the window
// is allocated; frames that declare the usual window are read.
func TestZstdChunkWindowIsBounded(t *testing.T) {
	blob, _ := zstdTwoFiles(t)
	for _, c := range []struct {
		name   string
		window uint64
		single bool
		ok     bool
	}{
		{"usual window", zstdUsualWindow, false, true},
		{"huge window", hugeWindow, false, false},
		{"huge content size", hugeWindow, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			reframed, rd, err := ta.ReframeZstd(blob, c.window, c.single)
			if err != nil {
				t.Fatal(err)
			}
			var readErr error
			n := allocated(func() { readErr = readAllChunks(t, reframed, rd) })
			if c.ok {
				if readErr != nil {
					t.Fatalf("reading: %v", readErr)
				}
				return
			}
			if !errors.Is(readErr, ErrDigestMismatch) {
				t.Errorf("got %v, want ErrDigestMismatch", readErr)
			}
			if n > 64<<20 {
				t.Errorf("refusing a frame with a %d MiB window allocated %d MiB", c.window>>20, n>>20)
			}
		})
	}
}

// A TOC frame that declares a window larger than the TOC limit is refused
// before the window is allocated.
func TestZstdTOCWindowIsBounded(t *testing.T) {
	blob, d := zstdTwoFiles(t)
	raw := rawTOC(t, blob, compression.Zstd)
	l, err := parseFooter(compression.Zstd, blob[max(0, len(blob)-TailSize):], int64(len(blob)))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		window uint64
		ok     bool
	}{
		{"usual window", zstdUsualWindow, true},
		{"huge window", hugeWindow, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			frame := ta.ZstdFrame(raw, c.window, false)
			// The TOC's skippable frame, then the footer's, as
			// zstd:chunked lays them out.
			out := bytes.Clone(blob[:l.tocOffset-8])
			out = append(out, 0x50, 0x2a, 0x4d, 0x18)
			out = append(out, byte(len(frame)), byte(len(frame)>>8), byte(len(frame)>>16), byte(len(frame)>>24))
			out = append(out, frame...)
			out = append(out, blob[len(blob)-ta.ZstdFooterSize-8:]...)
			out = ta.WithZstdFooter(out, uint64(l.tocOffset), uint64(len(frame)), uint64(len(raw)))
			var readErr error
			n := allocated(func() {
				_, readErr = Read(context.Background(), bytes.NewReader(out), int64(len(out)), compression.Zstd, d, Limits{MaxTOCBytes: 1 << 20})
			})
			if c.ok {
				if readErr != nil {
					t.Fatalf("reading: %v", readErr)
				}
				return
			}
			if !errors.Is(readErr, ErrDigestMismatch) && !errors.Is(readErr, ErrNotEStargz) {
				t.Errorf("got %v, want an integrity error", readErr)
			}
			if n > 64<<20 {
				t.Errorf("refusing a TOC frame with a %d MiB window allocated %d MiB", c.window>>20, n>>20)
			}
		})
	}
}

// The TOC JSON may be no longer than zstd:chunked's footer says: the size
// it gives bounds the decoder's window and what is inflated.
func TestZstdTOCNoLongerThanTheFooterSays(t *testing.T) {
	blob, d := zstdTwoFiles(t)
	l, err := parseFooter(compression.Zstd, blob[max(0, len(blob)-TailSize):], int64(len(blob)))
	if err != nil {
		t.Fatal(err)
	}
	short := ta.WithZstdFooter(blob, uint64(l.tocOffset), uint64(l.tocSize), uint64(l.tocJSON-1))
	if _, err := Read(context.Background(), bytes.NewReader(short), int64(len(short)), compression.Zstd, d, Limits{}); !errors.Is(err, ErrLimit) {
		t.Fatalf("a footer one byte short: got %v, want ErrLimit", err)
	}
	if _, err := Read(context.Background(), bytes.NewReader(blob), int64(len(blob)), compression.Zstd, d, Limits{MaxTOCBytes: l.tocJSON}); err != nil {
		t.Fatalf("a TOC exactly at the limit: %v", err)
	}
}
