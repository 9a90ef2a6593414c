package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	digest "github.com/opencontainers/go-digest"
)

// floors is what the machine allows on one dataset, measured in the same
// run as the jobs (BENCHMARKS.md, "The floor beside every row").
type floors struct {
	cpu       cpuRates
	layer     int64   // bytes of blobber's gzip layer of the dataset
	get, put  float64 // loopback HTTP rates of that layer, bytes per second
	diskWrite time.Duration
	cores     int
	shared    sharedCPU // the CPU behind get, put and the disk, for sharedFloor
}

// floor is one job's lower bound and what bounds it.
type floor struct {
	time    time.Duration
	boundBy string
	// shared is the bound when the job's CPU, the registry's and the
	// kernel's share the cores (see sharedFloor); zero when unknown.
	shared time.Duration
}

// measureFloors pushes ds once with blobber (untimed) for a layer to
// move, then measures the machine's rates on ds and that layer.
func (b *bench) measureFloors(ds *dataset) (*floors, error) {
	logf("%s: measuring the floors", ds.name)
	ref := b.ref(ds, "blobber", "floor", 0)
	if _, err := runCmd(b.command(b.tools["blobber"], nil, "push", "--layers", "1", ds.dir, ref)); err != nil {
		return nil, fmt.Errorf("the floors' push: %w", err)
	}
	layers, err := b.stash.manifestLayers(b.ctx, ref)
	if err != nil || len(layers) != 1 {
		return nil, fmt.Errorf("the floors' layer of %s: %v (%d layers)", ref, err, len(layers))
	}
	layerPath := filepath.Join(b.stash.blobDir(layers[0]), "data")
	info, err := os.Stat(layerPath)
	if err != nil {
		return nil, err
	}
	f := &floors{layer: info.Size(), cores: runtime.NumCPU()}
	sample, err := readSample(ds)
	if err != nil {
		return nil, err
	}
	// gzip's default level, as klauspost builds gzip.DefaultCompression.
	if f.cpu, err = measureCPU(sample, gzip.DefaultCompression, zstd.SpeedDefault, max(b.runs, 2)); err != nil {
		return nil, err
	}
	repo := fmt.Sprintf("bench/%s/blobber-floor-0", ds.name)
	var getBest, putBest, diskBest time.Duration
	s := &f.shared
	for run := range b.runs {
		_ = waitQuiet(b.quietWait)
		d, cpu, err := cpuOf(func() (time.Duration, error) { return timeGet(b.host, repo, layers[0]) })
		if err != nil {
			return nil, err
		}
		getBest, s.get = minPositive(getBest, d), minPositive(s.get, cpu)
		d, cpu, err = cpuOf(func() (time.Duration, error) {
			return timePut(b.host, fmt.Sprintf("bench/%s/floor-put-%d", ds.name, run), layers[0], layerPath, f.layer)
		})
		if err != nil {
			return nil, err
		}
		putBest, s.put = minPositive(putBest, d), minPositive(s.put, cpu)
		d, cpu, err = cpuOf(func() (time.Duration, error) { return b.timeDiskWrite(ds, sample, run) })
		if err != nil {
			return nil, err
		}
		diskBest, s.diskWrite = minPositive(diskBest, d), minPositive(s.diskWrite, cpu)
		if _, cpu, err = cpuOf(func() (time.Duration, error) { return timeDiskRead(ds) }); err != nil {
			return nil, err
		}
		s.diskRead = minPositive(s.diskRead, cpu)
	}
	f.get = float64(f.layer) / getBest.Seconds()
	f.put = float64(f.layer) / putBest.Seconds()
	f.diskWrite = diskBest
	logf("%s floors: sha256 %.0f MB/s (one core), %.0f MB/s (all); gzip %.0f, zstd %.0f, inflate %.0f, unzstd %.0f MB/s; GET %.0f, PUT %.0f MB/s; disk %s; CPU of GET %s, PUT %s, writing %s, reading %s",
		ds.name, f.cpu.sha1/1e6, f.cpu.shaAll/1e6, f.cpu.gzip/1e6, f.cpu.zstd/1e6, f.cpu.inflate/1e6, f.cpu.unzstd/1e6, f.get/1e6, f.put/1e6, fmtDuration(diskBest),
		fmtDuration(s.get), fmtDuration(s.put), fmtDuration(s.diskWrite), fmtDuration(s.diskRead))
	return f, nil
}

func minPositive(a, b time.Duration) time.Duration {
	if a == 0 || b < a {
		return b
	}
	return a
}

// timeGet downloads the blob through the counting proxy, as the tools do.
func timeGet(host, repo string, d digest.Digest) (time.Duration, error) {
	start := time.Now()
	resp, err := http.Get(fmt.Sprintf("http://%s/v2/%s/blobs/%s", host, repo, d))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET of %s: %s", d, resp.Status)
	}
	return time.Since(start), nil
}

// timePut uploads the blob at path to a new repository in one PUT (after
// the POST that opens the session), through the counting proxy.
func timePut(host, repo string, d digest.Digest, path string, size int64) (time.Duration, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	start := time.Now()
	resp, err := http.Post(fmt.Sprintf("http://%s/v2/%s/blobs/uploads/", host, repo), "", nil)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusAccepted || loc == "" {
		return 0, fmt.Errorf("POST of an upload: %s", resp.Status)
	}
	if !strings.HasPrefix(loc, "http") {
		loc = "http://" + host + loc
	}
	sep := "?"
	if strings.Contains(loc, "?") {
		sep = "&"
	}
	req, err := http.NewRequest(http.MethodPut, loc+sep+"digest="+d.String(), f)
	if err != nil {
		return 0, err
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return 0, fmt.Errorf("PUT of %s: %s", d, resp.Status)
	}
	return time.Since(start), nil
}

// timeDiskWrite writes every file of ds, at its size, into an empty
// directory of the file system the pulls write to: create, write, close.
func (b *bench) timeDiskWrite(ds *dataset, sample []byte, run int) (time.Duration, error) {
	dir := filepath.Join(b.work, fmt.Sprintf("floor-disk-%s-%d", ds.name, run))
	defer b.discard(ds, dir)
	names := ds.sortedNames()
	if len(sample) == 0 {
		sample = make([]byte, 1)
	}
	_ = exec.CommandContext(b.ctx, "sync").Run()
	start := time.Now()
	made := map[string]bool{}
	for _, n := range names {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if parent := filepath.Dir(p); !made[parent] {
			if err := os.MkdirAll(parent, 0o755); err != nil {
				return 0, err
			}
			made[parent] = true
		}
		f, err := os.Create(p)
		if err != nil {
			return 0, err
		}
		for left := ds.files[n]; left > 0; {
			chunk := sample[:min(int64(len(sample)), left, 256*kiB)]
			if _, err := f.Write(chunk); err != nil {
				f.Close()
				return 0, err
			}
			left -= int64(len(chunk))
		}
		if err := f.Close(); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

// multiChunkBytes is the bytes of the files a push splits into more than
// one chunk (blobber's default chunk size, 4 MiB).
func (ds *dataset) multiChunkBytes() int64 {
	var n int64
	for _, size := range ds.files {
		if size > 4<<20 {
			n += size
		}
	}
	return n
}

// jobFloor is the floor of one job, or false for a job without one.
func (f *floors) jobFloor(ds *dataset, job string) (floor, bool) {
	B := float64(ds.bytes)
	gzLayer := float64(f.layer)
	zsLayer := B * f.cpu.zstdRat
	cores := float64(f.cores)
	var cpu, net float64 // seconds: CPU work on one core; network transfer
	var disk time.Duration
	// A push hashes the chunks, the files of more than one chunk (a file
	// of one has its chunk's digest) and the tar stream (the diffID),
	// compresses, and hashes the layer; the registry, on the same cores,
	// hashes it again.
	multi := float64(ds.multiChunkBytes())
	pushCPU := func(rate, layer float64) float64 {
		return (2*B+multi)/f.cpu.sha1 + B/rate + 2*layer/f.cpu.sha1
	}
	// A pull decodes and verifies every chunk, and hashes the whole layer.
	pullCPU := func(rate, layer float64) float64 { return B/rate + B/f.cpu.sha1 + layer/f.cpu.sha1 }
	switch job {
	case jobPush:
		cpu, net = pushCPU(f.cpu.gzip, gzLayer), gzLayer/f.put
	case jobPushGMP1:
		cpu, net, cores = pushCPU(f.cpu.gzip, gzLayer), gzLayer/f.put, 1
	case jobLayout:
		cpu = pushCPU(f.cpu.gzip, gzLayer) - gzLayer/f.cpu.sha1
	case jobLayoutGMP1:
		cpu, cores = pushCPU(f.cpu.gzip, gzLayer)-gzLayer/f.cpu.sha1, 1
	case jobPushZstd:
		cpu, net = pushCPU(f.cpu.zstd, zsLayer), zsLayer/f.put
	case jobPull:
		cpu, net, disk = pullCPU(f.cpu.inflate, gzLayer), gzLayer/f.get, f.diskWrite
	case jobPullZstd:
		cpu, net, disk = pullCPU(f.cpu.unzstd, zsLayer), zsLayer/f.get, f.diskWrite
	case jobPullWarm:
		cpu, disk = pullCPU(f.cpu.inflate, gzLayer), f.diskWrite
	default:
		return floor{}, false
	}
	fl := floor{time: time.Duration(cpu / cores * float64(time.Second)), boundBy: "CPU"}
	if d := time.Duration(net * float64(time.Second)); d > fl.time {
		fl = floor{time: d, boundBy: "network"}
	}
	if disk > fl.time {
		fl = floor{time: disk, boundBy: "disk"}
	}
	fl.shared = f.sharedFloor(ds, job, cpu, fl)
	return fl, true
}

// floorTable renders blobber's time beside each job's floor.
func floorTable(r dsResult) string {
	f := r.floors
	if f == nil {
		return ""
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "\nFloors (lower bounds, measured in this run on this dataset; BENCHMARKS.md): SHA-256 %.0f MB/s on one core, %.0f MB/s on %d; "+
		"gzip (default level) %.0f MB/s, zstd %.0f MB/s, inflate %.0f MB/s, zstd decode %.0f MB/s per core; "+
		"GET of the %s layer %.0f MB/s, PUT %.0f MB/s; writing the tree %s; "+
		"CPU on the cores shared: GET %s, PUT %s, writing the tree %s, reading it %s.\n",
		f.cpu.sha1/1e6, f.cpu.shaAll/1e6, f.cores, f.cpu.gzip/1e6, f.cpu.zstd/1e6, f.cpu.inflate/1e6, f.cpu.unzstd/1e6,
		fmtBytes(f.layer), f.get/1e6, f.put/1e6, fmtDuration(f.diskWrite),
		fmtDuration(f.shared.get), fmtDuration(f.shared.put), fmtDuration(f.shared.diskWrite), fmtDuration(f.shared.diskRead))
	b.WriteString("\n| job | floor | bound by | floor, cores shared | blobber | blobber ÷ floor | blobber ÷ floor, cores shared |\n|---|--:|---|--:|--:|--:|--:|\n")
	for _, job := range jobsFor(r.ds) {
		fl, has := f.jobFloor(r.ds, job)
		if !has {
			continue
		}
		shared, measured, ratio, sharedRatio := "–", "–", "–", "–"
		if fl.shared > 0 {
			shared = fmtDuration(fl.shared)
		}
		if res := find(r.results, job, "blobber"); ok(res) {
			wall := medians(res.samples).wall
			measured = fmtDuration(wall)
			ratio = fmt.Sprintf("%.2f×", wall.Seconds()/fl.time.Seconds())
			if fl.shared > 0 {
				sharedRatio = fmt.Sprintf("%.2f×", wall.Seconds()/fl.shared.Seconds())
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", job, fmtDuration(fl.time), fl.boundBy, shared, measured, ratio, sharedRatio)
	}
	return b.String()
}
