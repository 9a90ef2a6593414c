package main

import (
	"bytes"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/blobber-dev/blobber/internal/inflate"
)

// sampleCap bounds the dataset bytes the CPU floors are measured on: a
// share of every file, so that the sample compresses as the dataset does.
const sampleCap = 64 * miB

// floorBlock is the piece compressed or decoded at a time: blobber's
// default chunk.
const floorBlock = 4 * miB

// cpuRates are single-core throughputs in bytes of the dataset (before
// compression) per second, except shaAll, which uses every core.
type cpuRates struct {
	sha1, shaAll     float64
	gzip, zstd       float64 // compression at the chosen level
	inflate, unzstd  float64 // decoding (internal/inflate; klauspost zstd)
	gzipRat, zstdRat float64 // compressed size ÷ dataset size, of the sample
}

// readSample reads the start of every file of ds, each file a share of
// sampleCap as large as its share of the dataset (all of it when the
// dataset is smaller).
func readSample(ds *dataset) ([]byte, error) {
	names := ds.sortedNames()
	var buf bytes.Buffer
	for _, n := range names {
		size := ds.files[n]
		share := size
		if ds.bytes > sampleCap {
			share = (size*sampleCap + ds.bytes - 1) / ds.bytes
		}
		if share == 0 {
			continue
		}
		f, err := os.Open(filepath.Join(ds.dir, filepath.FromSlash(n)))
		if err != nil {
			return nil, err
		}
		_, err = io.CopyN(&buf, f, share)
		f.Close()
		if err != nil && err != io.EOF {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

func blocks(sample []byte) [][]byte {
	var out [][]byte
	for len(sample) > 0 {
		n := min(len(sample), floorBlock)
		out = append(out, sample[:n])
		sample = sample[n:]
	}
	return out
}

// bestRate runs fn tries times and returns n bytes over its fastest run:
// the floor is a lower bound, and other processes only slow a run down.
func bestRate(n int, tries int, fn func()) float64 {
	best := time.Duration(1<<63 - 1)
	for range tries {
		start := time.Now()
		fn()
		best = min(best, time.Since(start))
	}
	return float64(n) / max(best.Seconds(), 1e-9)
}

// measureCPU measures the CPU rates on sample, gzip at gzipLevel and zstd
// at zstdLevel, each on one goroutine but shaAll.
func measureCPU(sample []byte, gzipLevel int, zstdLevel zstd.EncoderLevel, tries int) (cpuRates, error) {
	var r cpuRates
	bs := blocks(sample)
	n := len(sample)
	r.sha1 = bestRate(n, tries, func() {
		for _, b := range bs {
			sha256.Sum256(b)
		}
	})
	r.shaAll = bestRate(n, tries, func() {
		var wg sync.WaitGroup
		cores := runtime.NumCPU()
		for w := range cores {
			wg.Go(func() {
				for i := w; i < len(bs); i += cores {
					sha256.Sum256(bs[i])
				}
			})
		}
		wg.Wait()
	})

	gz := make([][]byte, len(bs))
	zw, err := gzip.NewWriterLevel(nil, gzipLevel)
	if err != nil {
		return r, err
	}
	r.gzip = bestRate(n, tries, func() {
		for i, b := range bs {
			var out bytes.Buffer
			zw.Reset(&out)
			zw.Write(b)
			zw.Close()
			gz[i] = out.Bytes()
		}
	})
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstdLevel), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return r, err
	}
	defer enc.Close()
	zs := make([][]byte, len(bs))
	r.zstd = bestRate(n, tries, func() {
		for i, b := range bs {
			zs[i] = enc.EncodeAll(b, nil)
		}
	})
	gzBytes, zsBytes := 0, 0
	for i := range bs {
		gzBytes += len(gz[i])
		zsBytes += len(zs[i])
	}
	r.gzipRat, r.zstdRat = float64(gzBytes)/float64(max(n, 1)), float64(zsBytes)/float64(max(n, 1))

	out := make([]byte, floorBlock)
	var decodeErr error
	r.inflate = bestRate(n, tries, func() {
		for i, b := range bs {
			if _, err := inflate.Gunzip(out[:len(b)], len(b), gz[i]); err != nil {
				decodeErr = err
			}
		}
	})
	if decodeErr != nil {
		return r, decodeErr
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	if err != nil {
		return r, err
	}
	defer dec.Close()
	r.unzstd = bestRate(n, tries, func() {
		for _, b := range zs {
			if _, err := dec.DecodeAll(b, out[:0]); err != nil {
				decodeErr = err
			}
		}
	})
	return r, decodeErr
}
