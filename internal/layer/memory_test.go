package layer

import (
	"fmt"
	"io"
	"io/fs"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/blobber-dev/blobber/internal/compression"
)

// generatedTree is a tree of dirs directories of perDir files, made up as
// it is read, so that what stays in memory is the builder's. Files are
// empty, or hold a few bytes with content set. It calls sample as it lists
// each directory.
type generatedTree struct {
	dirs, perDir int
	content      bool
	sample       func()
}

type generatedEntry struct {
	name string
	dir  bool
	size int64
}

func (e generatedEntry) Name() string               { return e.name }
func (e generatedEntry) IsDir() bool                { return e.dir }
func (e generatedEntry) Type() fs.FileMode          { return e.Mode().Type() }
func (e generatedEntry) Info() (fs.FileInfo, error) { return e, nil }
func (e generatedEntry) Size() int64                { return e.size }
func (e generatedEntry) ModTime() time.Time         { return time.Time{} }
func (e generatedEntry) Sys() any                   { return nil }
func (e generatedEntry) Mode() fs.FileMode {
	if e.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}

// generatedFile holds its own name, up to its size.
type generatedFile struct {
	generatedEntry
	r *strings.Reader
}

func (f generatedFile) Stat() (fs.FileInfo, error) { return f.generatedEntry, nil }
func (f generatedFile) Read(p []byte) (int, error) { return f.r.Read(p) }
func (f generatedFile) Close() error               { return nil }

func (g generatedTree) entry(i int) generatedEntry {
	e := generatedEntry{name: fmt.Sprintf("a-file-with-a-longish-name-%06d.txt", i)}
	if g.content {
		e.size = int64(1 + i%len(e.name))
	}
	return e
}

func (g generatedTree) Open(name string) (fs.File, error) {
	var d, i int
	if _, err := fmt.Sscanf(name, "directory-%06d/a-file-with-a-longish-name-%06d.txt", &d, &i); err != nil || d >= g.dirs || i >= g.perDir {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	e := g.entry(i)
	return generatedFile{e, strings.NewReader(e.name[:e.size])}, nil
}

func (g generatedTree) Stat(name string) (fs.FileInfo, error) {
	if name == "." {
		return generatedEntry{name: ".", dir: true}, nil
	}
	return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
}

func (g generatedTree) ReadDir(name string) ([]fs.DirEntry, error) {
	g.sample()
	var list []fs.DirEntry
	if name == "." {
		for i := range g.dirs {
			list = append(list, generatedEntry{name: fmt.Sprintf("directory-%06d", i), dir: true})
		}
		return list, nil
	}
	for i := range g.perDir {
		list = append(list, g.entry(i))
	}
	return list, nil
}

// The builder's live heap is small and does not grow with the number of
// entries: it holds neither the TOC entries nor the TOC JSON, nor a member
// made long by a run of entries without content (gzip streams it in pieces,
// zstd cuts it into members), and a batch of small files holds little more
// than their bytes.
func TestBuildMemoryDoesNotGrowWithEntries(t *testing.T) {
	if testing.Short() || raceEnabled() {
		t.Skip("builds trees of many entries, several times slower with -race")
	}
	for _, c := range []struct {
		comp    compression.Compression
		content bool
		entries int
	}{
		{compression.Gzip, false, 60_000},
		{compression.Gzip, true, 60_000},
		{compression.Zstd, false, 60_000},
		{compression.Zstd, true, 60_000},
	} {
		t.Run(fmt.Sprintf("%s/content=%v", c.comp, c.content), func(t *testing.T) {
			withSpoolMemory(t, 64<<10)
			peakLiveHeap := func(entries int) uint64 {
				var peak uint64
				tree := generatedTree{dirs: entries / 200, perDir: 200, content: c.content, sample: func() {
					runtime.GC()
					var ms runtime.MemStats
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapAlloc)
				}}
				res, err := Build(t.Context(), tree, io.Discard, Options{Compression: c.comp, Workers: 2, TempDir: t.TempDir()})
				if err != nil {
					t.Fatal(err)
				}
				if res.Entries != tree.dirs*(tree.perDir+1) {
					t.Fatalf("%d entries, want %d", res.Entries, tree.dirs*(tree.perDir+1))
				}
				return peak
			}
			// A few batches in flight take some 10 MiB, and how many a
			// sample catches varies from run to run by a few MiB, upwards
			// only, and more on a loaded machine (a whole `go test ./...`
			// on two cores): the least of three runs is the figure.
			// Holding the entries would cost some 300 bytes each (14 MiB
			// more for the larger trees), a member of tar headers 512.
			least := func(entries int) uint64 {
				return min(peakLiveHeap(entries), peakLiveHeap(entries), peakLiveHeap(entries))
			}
			small, large := least(c.entries/5), least(c.entries)
			t.Logf("peak live heap: %d KiB for %d entries, %d KiB for %d", small>>10, c.entries/5, large>>10, c.entries)
			if large > small+6<<20 || large > 32<<20 {
				t.Errorf("peak live heap: %d KiB for %d entries, %d KiB for %d", small>>10, c.entries/5, large>>10, c.entries)
			}
		})
	}
}

// skipUnderRace skips a variant of a test that adds nothing concurrent, with
// the race detector, which makes builds several times slower.
func skipUnderRace(t *testing.T) {
	t.Helper()
	if raceEnabled() {
		t.Skip("nothing concurrent to check; slow with -race")
	}
}

// raceEnabled reports whether the tests run with the race detector.
func raceEnabled() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}
