package inflate

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	kflate "github.com/klauspost/compress/flate"
)

// samples are inputs of the kinds a layer holds: log-like text, random
// bytes (stored blocks), long runs (overlapping matches), and mixes.
func samples() map[string][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 300<<10)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	var text bytes.Buffer
	for i := 0; text.Len() < 1<<20; i++ {
		fmt.Fprintf(&text, "2026-11-27T12:%02d:%02d.%03dZ level=info msg=\"request done\" path=/v2/items/%d status=%d bytes=%d\n",
			i%60, (i/60)%60, i%1000, rng.IntN(5000), []int{200, 200, 200, 404, 500}[rng.IntN(5)], rng.IntN(1<<20))
	}
	// Lines like the benchmark's log files: more random fields (a request
	// id of 12 hex digits), so more literals and a ratio near 3.8.
	var requests bytes.Buffer
	for ms := int64(1742777139000); requests.Len() < 1<<20; ms += int64(rng.IntN(250)) {
		fmt.Fprintf(&requests, "%s %s [%s-%d] %s %s%d status=%d bytes=%d dur=%.2fms req=%012x\n",
			time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z"), []string{"INFO ", "INFO ", "DEBUG", "WARN ", "ERROR"}[rng.IntN(5)],
			[]string{"http", "db", "cache", "worker", "api"}[rng.IntN(5)], rng.IntN(16), []string{"GET", "GET", "POST", "DELETE"}[rng.IntN(4)],
			[]string{"/api/v1/items/", "/static/assets/", "/api/v1/search?q="}[rng.IntN(3)], rng.IntN(100000),
			[]int{200, 200, 201, 304, 404, 500}[rng.IntN(6)], rng.IntN(65536), float64(rng.IntN(50000))/100, rng.Uint64()&0xffffffffffff)
	}
	runs := append(bytes.Repeat([]byte{'a'}, 70000), bytes.Repeat([]byte("xy"), 40000)...)
	mixed := append(append(append([]byte{}, text.Bytes()[:200<<10]...), random[:100<<10]...), runs...)
	return map[string][]byte{
		"empty": {}, "one": {'x'}, "text": text.Bytes(), "requests": requests.Bytes(), "random": random, "runs": runs, "mixed": mixed,
	}
}

type compressor struct {
	name  string
	write func(w io.Writer, level int) (io.WriteCloser, error)
}

var compressors = []compressor{
	{"stdlib", func(w io.Writer, level int) (io.WriteCloser, error) { return flate.NewWriter(w, level) }},
	{"klauspost", func(w io.Writer, level int) (io.WriteCloser, error) { return kflate.NewWriter(w, level) }},
}

func deflate(t testing.TB, c compressor, level int, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := c.write(&buf, level)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestInflateRoundTrip(t *testing.T) {
	for name, data := range samples() {
		for _, c := range compressors {
			for _, level := range []int{flate.NoCompression, flate.BestSpeed, 5, flate.BestCompression, flate.HuffmanOnly} {
				t.Run(fmt.Sprintf("%s/%s/%d", name, c.name, level), func(t *testing.T) {
					src := deflate(t, c, level, data)
					// Trailing bytes are not part of the stream.
					src = append(src, 0xde, 0xad)
					dst := make([]byte, len(data))
					n, end, err := Inflate(dst, src)
					if err != nil || n != len(data) || !bytes.Equal(dst, data) {
						t.Fatalf("Inflate: n=%d err=%v, equal=%v", n, err, bytes.Equal(dst[:n], data))
					}
					if end != len(src)-2 {
						t.Fatalf("stream ends at %d, Inflate says %d", len(src)-2, end)
					}
					// A buffer shorter than the data: filled, and the
					// stream not reported as ended.
					if len(data) > 10 {
						short := make([]byte, len(data)-7)
						n, end, err := Inflate(short, src)
						if err != nil || n != len(short) || end != -1 || !bytes.Equal(short, data[:len(short)]) {
							t.Fatalf("short buffer: n=%d end=%d err=%v", n, end, err)
						}
					}
					// A longer one: the stream ends inside it.
					long := make([]byte, len(data)+100)
					if n, end, err := Inflate(long, src); err != nil || n != len(data) || end != len(src)-2 {
						t.Fatalf("long buffer: n=%d end=%d err=%v", n, end, err)
					}
					// Truncated input is an error, wherever it is cut.
					for _, cut := range []int{1, 2, len(src) / 2, len(src) - 3} {
						if cut >= len(src)-2 || cut < 0 {
							continue
						}
						if n, _, err := Inflate(make([]byte, len(data)), src[:cut]); err == nil && n == len(data) && len(data) > 0 {
							t.Fatalf("input cut at %d of %d decoded whole", cut, len(src)-2)
						}
					}
				})
			}
		}
	}
}

// The fixed and dynamic blocks flate writers emit do not use every corner
// of the format; the fuzzer does, against compress/flate.
func FuzzInflate(f *testing.F) {
	for _, seed := range inflateSeeds(f) {
		f.Add(seed.src, seed.size)
	}
	f.Fuzz(func(t *testing.T, src []byte, size uint16) { checkInflate(t, src, size) })
}

type inflateSeed struct {
	src  []byte
	size uint16
}

// inflateSeeds are small: the fuzzer minimises every new input it keeps,
// trying to remove each subset of its bytes (quadratic in its length, up
// to -fuzzminimizetime each), and new inputs are mutated seeds. A few
// hundred bytes of deflate still hold every block type and code; runs
// compress to a few bytes whatever their length, so they keep theirs.
func inflateSeeds(tb testing.TB) []inflateSeed {
	var seeds []inflateSeed
	all := samples()
	for _, name := range slices.Sorted(maps.Keys(all)) {
		data := all[name]
		for _, c := range compressors {
			for _, level := range []int{0, 1, 9, -2} {
				limit := 512
				switch {
				case level == 0:
					limit = 64 // stored blocks: the bytes as they are
				case name == "runs":
					limit = 4096
				}
				data := data[:min(len(data), limit)]
				src := deflate(tb, c, level, data)
				seeds = append(seeds, inflateSeed{src, uint16(len(data))}, inflateSeed{src, 65535}) // room for the fast loop's pair table
			}
		}
	}
	return append(seeds, inflateSeed{[]byte{0x03, 0x00}, 0}, inflateSeed{[]byte{0x01, 0x00, 0x00, 0xff, 0xff}, 1})
}

// checkInflate is FuzzInflate's target: Inflate against compress/flate.
// Its buffers and compress/flate's reader are reused from one input to the
// next (fuzzOracle), since allocating and clearing them cost more than
// decoding a small input.
func checkInflate(t testing.TB, src []byte, size uint16) {
	o := fuzzOracles.Get().(*fuzzOracle)
	defer fuzzOracles.Put(o)
	dst := o.dst[:size]
	n, end, err := Inflate(dst, src)
	// compress/flate reads ahead: at the end of a truncated stream it
	// can fail before bits it has not needed yet. Inflate succeeds only
	// on bits it has (past them it fails), so where it succeeds,
	// compress/flate must decode the same bytes from the stream with
	// zeros after it.
	padded, pm, _ := o.read(o.padded(src), int(size))
	switch {
	case err != nil:
		// What Inflate wrote before the error came from the input.
		if pm < n || !bytes.Equal(dst[:n], padded[:n]) {
			t.Fatalf("Inflate wrote %d bytes before failing that compress/flate does not decode so", n)
		}
		// Failing after the buffer filled is allowed: Inflate reads
		// on to find the stream's end, compress/flate stops.
		if n < int(size) {
			if _, m, rerr := o.read(src, int(size)); rerr == nil {
				t.Fatalf("Inflate failed (%v) where compress/flate read all %d bytes", err, m)
			}
		}
	case end < 0:
		if n != int(size) {
			t.Fatalf("Inflate wrote %d of %d bytes without an error or the stream's end", n, size)
		}
		if pm != int(size) || !bytes.Equal(dst, padded) {
			t.Fatalf("Inflate filled the buffer; compress/flate: %d bytes; equal %v", pm, bytes.Equal(dst[:min(n, pm)], padded[:min(n, pm)]))
		}
	default:
		if end > len(src) {
			t.Fatalf("stream end %d past the input's %d bytes", end, len(src))
		}
		if pm != n || !bytes.Equal(dst[:n], padded[:n]) {
			t.Fatalf("Inflate: %d bytes and the end; compress/flate: %d bytes", n, pm)
		}
	}
}

// fuzzOracle holds what checkInflate reuses: Inflate's buffer, compress/flate's
// reader and buffer (both as large as a uint16 size asks), and the input
// with zeros after it.
type fuzzOracle struct {
	dst, ref, pad []byte
	src           bytes.Reader
	fr            io.ReadCloser
}

var fuzzOracles = sync.Pool{New: func() any {
	return &fuzzOracle{dst: make([]byte, 1<<16), ref: make([]byte, 1<<16), fr: flate.NewReader(bytes.NewReader(nil))}
}}

// padded is src with 16 zeros after it.
func (o *fuzzOracle) padded(src []byte) []byte {
	o.pad = append(append(o.pad[:0], src...), make([]byte, 16)...)
	return o.pad
}

// read reads size bytes of src with compress/flate.
func (o *fuzzOracle) read(src []byte, size int) ([]byte, int, error) {
	o.src.Reset(src)
	if err := o.fr.(flate.Resetter).Reset(&o.src, nil); err != nil {
		return nil, 0, err
	}
	m, err := io.ReadFull(o.fr, o.ref[:size])
	return o.ref[:size], m, err
}

// BenchmarkFuzzInflateTarget times FuzzInflate's target over its seeds,
// which is what bounds the fuzzer's executions per second (and how long it
// takes to minimise each new input).
func BenchmarkFuzzInflateTarget(b *testing.B) {
	seeds := inflateSeeds(b)
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range seeds {
			checkInflate(b, s.src, s.size)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(seeds)), "ns/input")
}

// BenchmarkFuzzInflateSetup times what each fuzzing worker does once:
// building the seeds.
func BenchmarkFuzzInflateSetup(b *testing.B) {
	for b.Loop() {
		inflateSeeds(b)
	}
}

func BenchmarkInflate(b *testing.B) {
	for _, name := range []string{"text", "requests", "random", "mixed", "runs"} {
		data := samples()[name]
		src := deflate(b, compressors[1], flate.DefaultCompression, data)
		b.Run(name+"/inflate", func(b *testing.B) {
			dst := make([]byte, len(data))
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, _, err := Inflate(dst, src); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/klauspost", func(b *testing.B) {
			dst := make([]byte, len(data))
			b.SetBytes(int64(len(data)))
			r := kflate.NewReader(bytes.NewReader(src))
			for b.Loop() {
				r.(kflate.Resetter).Reset(bytes.NewReader(src), nil)
				if _, err := io.ReadFull(r, dst); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkInflateSmall inflates 4 KiB pieces of text, each its own
// stream, like the chunks of a tree of small files: there the tables
// each block builds weigh as much as decoding.
func BenchmarkInflateSmall(b *testing.B) {
	data := samples()["text"]
	var srcs [][]byte
	for off := 0; off+4096 <= len(data); off += 4096 {
		srcs = append(srcs, deflate(b, compressors[1], flate.DefaultCompression, data[off:off+4096]))
	}
	dst := make([]byte, 4096)
	b.SetBytes(int64(len(srcs) * 4096))
	for b.Loop() {
		for _, src := range srcs {
			if _, _, err := Inflate(dst, src); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkDeflateLevel is the other side of a chunk: what klauspost's
// deflate costs at a few levels (blobber's push uses the default) on 4 MiB
// pieces, a chunk's size, with one writer reset between pieces as the
// push's compressors do, and the output's size over the input's (ratio).
// The samples are tiled to 4 MiB: they repeat farther apart than deflate's
// 32 KiB window, so the tiling adds no matches.
func BenchmarkDeflateLevel(b *testing.B) {
	for _, name := range []string{"requests", "random"} {
		sample := samples()[name]
		data := bytes.Repeat(sample, (4<<20)/len(sample)+1)[:4<<20]
		for _, level := range []int{1, kflate.DefaultCompression, 9} {
			b.Run(fmt.Sprintf("%s/level%d", name, level), func(b *testing.B) {
				var out bytes.Buffer
				w, err := kflate.NewWriter(&out, level)
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					out.Reset()
					w.Reset(&out)
					if _, err := w.Write(data); err != nil {
						b.Fatal(err)
					}
					if err := w.Close(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(out.Len())/float64(len(data)), "ratio")
			})
		}
	}
}
