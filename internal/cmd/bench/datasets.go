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
	"sort"
	"strconv"
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

// genSmall writes n text files of 1–8 KiB, spread over 100 directories.
func genSmall(dir string, r *rand.Rand, n int) error {
	for i := range n {
		name := filepath.Join(dir, fmt.Sprintf("dir-%03d", i%100), fmt.Sprintf("file-%05d.txt", i))
		if err := writeFile(name, int64(kiB+r.IntN(7*kiB+1)), r, kindProse); err != nil {
			return err
		}
	}
	return nil
}

// genMany writes n text files of 256 B–4 KiB (one disk block each) into
// 200 directories, 20 of 10 subdirectories.
func genMany(dir string, r *rand.Rand, n int) error {
	for i := range n {
		d := i % 200
		name := filepath.Join(dir, fmt.Sprintf("part-%02d", d/10), fmt.Sprintf("dir-%d", d%10), fmt.Sprintf("file-%06d.txt", i))
		if err := writeFile(name, int64(256+r.IntN(4*kiB-256+1)), r, kindProse); err != nil {
			return err
		}
	}
	return nil
}

// genLarge writes four files of total/4 bytes: two random, two log text.
func genLarge(dir string, r *rand.Rand, total int64) error {
	return genHalves(dir, r, 4, total)
}

// genHuge writes eight files of total/8 bytes as genLarge does, then
// README.txt, 4 KiB of prose: the small file that cat reads.
func genHuge(dir string, r *rand.Rand, total int64) error {
	if err := genHalves(dir, r, 8, total); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, "README.txt"), 4*kiB, r, kindProse)
}

// genHalves writes n files of total/n bytes, in turn random bytes
// (random-1.bin, …) and log lines (app-1.log, …).
func genHalves(dir string, r *rand.Rand, n int, total int64) error {
	for i := range n {
		name, kind := fmt.Sprintf("random-%d.bin", i/2+1), kindRandom
		if i%2 == 1 {
			name, kind = fmt.Sprintf("app-%d.log", i/2+1), kindLog
		}
		if err := writeFile(filepath.Join(dir, name), total/int64(n), r, kind); err != nil {
			return err
		}
	}
	return nil
}

// genMixed writes n files totalling total bytes, with log-normal sizes
// (σ = 2 in natural-log units, the median chosen so that the sizes add up to
// total) clamped to 1 KiB–20 MiB, the upper bound scaled down with total
// below 200 MiB; half are random bytes, a quarter log lines, a quarter prose.
func genMixed(dir string, r *rand.Rand, n int, total int64) error {
	lo, hi := float64(kiB), float64(20*miB)*min(1, float64(total)/(200*miB))
	z := make([]float64, n)
	kinds := make([]contentKind, n)
	for i := range z {
		z[i] = r.NormFloat64()
		kinds[i] = [...]contentKind{kindRandom, kindRandom, kindLog, kindProse}[r.IntN(4)]
	}
	sizesFor := func(mu float64) ([]int64, int64) {
		sizes, sum := make([]int64, n), int64(0)
		for i, x := range z {
			sizes[i] = int64(math.Round(min(hi, max(lo, math.Exp(mu+2*x)))))
			sum += sizes[i]
		}
		return sizes, sum
	}
	muLo, muHi := math.Log(lo), math.Log(hi) // the sum grows with mu
	for range 200 {
		mid := (muLo + muHi) / 2
		if _, sum := sizesFor(mid); sum > total {
			muHi = mid
		} else {
			muLo = mid
		}
	}
	sizes, sum := sizesFor(muLo)
	// Put the rounding remainder on the biggest file that has room.
	big := -1
	for i, s := range sizes {
		if (big < 0 || s > sizes[big]) && float64(s+total-sum) <= hi {
			big = i
		}
	}
	if big < 0 {
		return fmt.Errorf("cannot make %d files of %v–%v bytes add up to %d", n, lo, hi, total)
	}
	sizes[big] += total - sum
	exts := map[contentKind]string{kindRandom: ".bin", kindLog: ".log", kindProse: ".txt"}
	for i, size := range sizes {
		sub := fmt.Sprintf("group-%02d", i%20)
		if i%3 == 0 {
			sub = filepath.Join(sub, "nested")
		}
		name := filepath.Join(dir, sub, fmt.Sprintf("file-%03d%s", i, exts[kinds[i]]))
		if err := writeFile(name, size, r, kinds[i]); err != nil {
			return err
		}
	}
	return nil
}

type contentKind int

const (
	kindRandom contentKind = iota
	kindLog
	kindProse
)

// writeFile writes size bytes of the given kind, generated in 1 MiB pieces
// (so that a file of any size takes 1 MiB of memory, and a small one little).
func writeFile(name string, size int64, r *rand.Rand, kind contentKind) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	g := &textGen{r: r, ms: 1735689600000 + r.Int64N(1e10)}
	buf := make([]byte, 0, min(size, miB)+4*kiB)
	for left := size; left > 0; {
		n := min(left, miB)
		buf = buf[:0]
		switch kind {
		case kindRandom:
			buf = appendRandom(buf, r, int(n))
		case kindLog:
			for int64(len(buf)) < n {
				buf = g.logLine(buf)
			}
		case kindProse:
			for int64(len(buf)) < n {
				buf = g.proseLine(buf)
			}
		}
		buf = buf[:n]
		if left == n && kind != kindRandom {
			buf[n-1] = '\n'
		}
		if _, err := f.Write(buf); err != nil {
			_ = f.Close()
			return err
		}
		left -= n
	}
	return f.Close()
}

func appendRandom(dst []byte, r *rand.Rand, n int) []byte {
	var w [8]byte
	for len(dst) < n {
		binary.LittleEndian.PutUint64(w[:], r.Uint64())
		dst = append(dst, w[:min(8, n-len(dst))]...)
	}
	return dst
}

// textGen makes log-like lines and prose lines.
type textGen struct {
	r  *rand.Rand
	ms int64 // log clock, Unix milliseconds
}

var (
	levels     = []string{"INFO ", "INFO ", "INFO ", "INFO ", "INFO ", "INFO ", "DEBUG", "DEBUG", "WARN ", "ERROR"}
	components = []string{"http", "db", "cache", "auth", "scheduler", "worker", "storage", "api"}
	methods    = []string{"GET", "GET", "GET", "POST", "PUT", "DELETE"}
	routes     = []string{"/api/v1/items/", "/api/v1/users/", "/api/v2/orders/", "/static/assets/", "/healthz?id=", "/api/v1/search?q="}
	statuses   = []int{200, 200, 200, 200, 201, 204, 304, 400, 404, 500}
	words      = []string{"the", "of", "and", "a", "to", "in", "is", "registry", "layer", "blob", "file", "tree",
		"artifact", "manifest", "digest", "content", "chunk", "table", "push", "pull", "read", "write", "request",
		"server", "client", "directory", "index", "offset", "range", "compressed", "archive", "quick", "brown",
		"fox", "jumps", "over", "lazy", "dog", "data", "stream", "bytes", "time", "with", "from", "every",
		"each", "one", "many", "small", "large", "mixed", "verified", "trusted", "parallel", "worker", "queue"}
)

func (g *textGen) logLine(dst []byte) []byte {
	r := g.r
	g.ms += int64(r.IntN(250))
	dst = time.UnixMilli(g.ms).UTC().AppendFormat(dst, "2006-01-02T15:04:05.000Z ")
	dst = append(dst, levels[r.IntN(len(levels))]...)
	dst = append(dst, " ["...)
	dst = append(dst, components[r.IntN(len(components))]...)
	dst = append(dst, "-"...)
	dst = strconv.AppendInt(dst, int64(r.IntN(16)), 10)
	dst = append(dst, "] "...)
	dst = append(dst, methods[r.IntN(len(methods))]...)
	dst = append(dst, ' ')
	dst = append(dst, routes[r.IntN(len(routes))]...)
	dst = strconv.AppendInt(dst, int64(r.IntN(100000)), 10)
	dst = append(dst, " status="...)
	dst = strconv.AppendInt(dst, int64(statuses[r.IntN(len(statuses))]), 10)
	dst = append(dst, " bytes="...)
	dst = strconv.AppendInt(dst, int64(r.IntN(65536)), 10)
	dst = append(dst, " dur="...)
	dst = strconv.AppendFloat(dst, float64(r.IntN(50000))/100, 'f', 2, 64)
	dst = append(dst, "ms req="...)
	dst = strconv.AppendUint(dst, r.Uint64()&0xffffffffffff, 16)
	return append(dst, '\n')
}

func (g *textGen) proseLine(dst []byte) []byte {
	for i, n := 0, 6+g.r.IntN(10); i < n; i++ {
		if i > 0 {
			dst = append(dst, ' ')
		}
		dst = append(dst, words[g.r.IntN(len(words))]...)
	}
	return append(dst, ".\n"...)
}
