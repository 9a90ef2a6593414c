package main

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

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
