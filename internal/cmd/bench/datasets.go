package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"
)

// genVersion names the generators' output; bump it when a generator changes
// so that cached datasets are rebuilt.
const genVersion = "blobber-bench datasets v3"

const (
	kiB = 1 << 10
	miB = 1 << 20
)

// datasetSpec says how to make a dataset; its key names the cache directory.
type datasetSpec struct {
	name string
	key  string // name plus scale, e.g. "large-128MiB"
	desc string
	// disk bounds the space the tree takes on disk (whole 4 KiB blocks),
	// for the free-space check.
	disk int64
	// scale marks the opt-in datasets that show how blobber scales: they
	// run only when named, and only the jobs the memory bound is about.
	scale     bool
	catBigJob bool // time a cat of the biggest file
	// keepPulls marks trees of hundreds of files or more, whose pulled
	// copies are kept until the end of the run (see bench.discard).
	keepPulls bool
	gen       func(dir string, r *rand.Rand) error
}

// defaultDatasets are the ones run unless --datasets names others; many
// and huge take long and need tens of GiB of disk.
const defaultDatasets = "small,large,mixed"

func datasetSpecs(quick bool) map[string]datasetSpec {
	smallFiles, largeTotal, mixedTotal := 10000, int64(1<<30), int64(200*miB)
	manyFiles, hugeTotal := 200000, int64(10<<30)
	if quick {
		smallFiles, largeTotal, mixedTotal = 2000, 128*miB, 50*miB
		manyFiles, hugeTotal = 20000, 2<<30
	}
	return map[string]datasetSpec{
		"small": {
			name: "small", key: fmt.Sprintf("small-%d", smallFiles),
			desc: fmt.Sprintf("%d text files of 1–8 KiB in 100 directories", smallFiles),
			disk: int64(smallFiles)*8*kiB + miB, keepPulls: true,
			gen: func(dir string, r *rand.Rand) error { return genSmall(dir, r, smallFiles) },
		},
		"large": {
			name: "large", key: fmt.Sprintf("large-%dMiB", largeTotal/miB),
			desc: fmt.Sprintf("4 files of %d MiB: 2 of random bytes, 2 of log lines", largeTotal/4/miB),
			disk: largeTotal + miB, catBigJob: true,
			gen: func(dir string, r *rand.Rand) error { return genLarge(dir, r, largeTotal) },
		},
		"mixed": {
			name: "mixed", key: fmt.Sprintf("mixed-%dMiB", mixedTotal/miB),
			desc: fmt.Sprintf("500 files, %d MiB, log-normal sizes 1 KiB–%d MiB, half random, half text", mixedTotal/miB, 20*mixedTotal/(200*miB)),
			disk: mixedTotal + 500*4*kiB + miB, keepPulls: true,
			gen: func(dir string, r *rand.Rand) error { return genMixed(dir, r, 500, mixedTotal) },
		},
		"many": {
			name: "many", key: fmt.Sprintf("many-%d", manyFiles),
			desc: fmt.Sprintf("%d text files of 256 B–4 KiB in 200 directories, two levels deep", manyFiles),
			disk: int64(manyFiles)*4*kiB + 16*miB, scale: true, keepPulls: true,
			gen: func(dir string, r *rand.Rand) error { return genMany(dir, r, manyFiles) },
		},
		"huge": {
			name: "huge", key: fmt.Sprintf("huge-%dGiB", hugeTotal>>30),
			desc: fmt.Sprintf("8 files of %d MiB: 4 of random bytes, 4 of log lines; and a 4 KiB text file", hugeTotal/8/miB),
			disk: hugeTotal + miB, scale: true, catBigJob: true,
			gen: func(dir string, r *rand.Rand) error { return genHuge(dir, r, hugeTotal) },
		},
	}
}

// dataset is a generated tree and what the jobs need to know about it.
type dataset struct {
	datasetSpec
	dir      string
	files    map[string]int64 // slash path → size, regular files only
	entries  int              // files and directories, as `blobber ls` prints them
	bytes    int64
	catSmall string            // the file nearest 4 KiB, "" if none is within 1–16 KiB
	catBig   string            // the biggest file (large only)
	sums     map[string]string // sha256 of the files checked after each pull
}

// generated reports whether dataDir holds a complete copy of spec.
func generated(dataDir string, spec datasetSpec) bool {
	b, err := os.ReadFile(filepath.Join(dataDir, spec.key+".ok"))
	return err == nil && string(b) == genVersion
}

// ensureDataset generates spec into dataDir unless a complete copy is
// already there, then scans it.
func ensureDataset(dataDir string, spec datasetSpec) (*dataset, error) {
	dir := filepath.Join(dataDir, spec.key)
	stamp := dir + ".ok"
	if !generated(dataDir, spec) {
		start := time.Now()
		logf("generating dataset %s into %s", spec.key, dir)
		tmp := dir + ".tmp"
		for _, p := range []string{stamp, dir, tmp} {
			if err := os.RemoveAll(p); err != nil {
				return nil, err
			}
		}
		seed := binary.LittleEndian.Uint64([]byte(spec.name + "\x00\x00\x00\x00\x00\x00\x00\x00"))
		if err := spec.gen(tmp, rand.New(rand.NewPCG(seed, 0x626c6f62626572))); err != nil {
			return nil, fmt.Errorf("generating %s: %w", spec.key, err)
		}
		if err := os.Rename(tmp, dir); err != nil {
			return nil, err
		}
		if err := os.WriteFile(stamp, []byte(genVersion), 0o644); err != nil {
			return nil, err
		}
		logf("generated %s in %s", spec.key, time.Since(start).Round(time.Millisecond))
	}
	return scanDataset(spec, dir)
}

func scanDataset(spec datasetSpec, dir string) (*dataset, error) {
	ds := &dataset{datasetSpec: spec, dir: dir, sums: map[string]string{}}
	files, entries, err := scanTree(dir)
	if err != nil {
		return nil, err
	}
	ds.files, ds.entries = files, entries
	names := make([]string, 0, len(files))
	for name, size := range files {
		names = append(names, name)
		ds.bytes += size
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("dataset %s is empty", dir)
	}
	sort.Strings(names)
	var bestDist int64 = math.MaxInt64
	for _, name := range names {
		size := files[name]
		if d := abs(size - 4*kiB); size >= kiB && size <= 16*kiB && d < bestDist {
			ds.catSmall, bestDist = name, d
		}
		if ds.catBig == "" || size > files[ds.catBig] {
			ds.catBig = name
		}
	}
	// Every file of the full datasets, so that each pull is checked byte
	// for byte; a few of the scale ones, whose trees are too big to hash
	// after every pull.
	sample := names
	if spec.scale {
		sample = []string{names[0], names[len(names)/2], names[len(names)-1], ds.catBig}
		if ds.catSmall != "" {
			sample = append(sample, ds.catSmall)
		}
	}
	for _, name := range sample {
		sum, err := fileSHA256(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			return nil, err
		}
		ds.sums[name] = sum
	}
	return ds, nil
}

// scanTree returns the regular files under root (slash paths → sizes) and
// the number of files and directories below root.
func scanTree(root string) (map[string]int64, int, error) {
	files := map[string]int64{}
	entries := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		entries++
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = info.Size()
		return nil
	})
	return files, entries, err
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// sortedNames are the dataset's regular files, in name order.
func (ds *dataset) sortedNames() []string {
	names := make([]string, 0, len(ds.files))
	for n := range ds.files {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
