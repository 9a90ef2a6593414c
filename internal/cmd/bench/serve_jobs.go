package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// blobber serve's rows: a server started, one request answered, the
// server stopped, timed together; the bytes column is what the server
// fetched (its table of contents and the chunks the request covers).
const (
	jobServeSmall = "serve: GET ~4 KiB file"
	jobServeRange = "serve: Range 1 MiB mid-file of the biggest"
)

// serveRangeLength is how much of the biggest file the Range row asks for.
const serveRangeLength = 1 << 20

// serveJobs are the serve rows ds gets: the small GET where cat has a
// small file, the Range request on large.
func serveJobs(ds *dataset) []string {
	var jobs []string
	if ds.catSmall != "" {
		jobs = append(jobs, jobServeSmall)
	}
	if ds.name == "large" && ds.catBig != "" {
		jobs = append(jobs, jobServeRange)
	}
	return jobs
}

func isServeJob(job string) bool { return job == jobServeSmall || job == jobServeRange }

// serveJob runs one serve row for blobber.
func (b *bench) serveJob(ds *dataset, t *tool, ref, job string) *result {
	name, start, end := ds.catSmall, int64(-1), int64(-1)
	if job == jobServeRange {
		name = ds.catBig
		start = ds.files[name]/2 + 12345 // not on a chunk boundary
		end = min(ds.files[name], start+serveRangeLength)
	}
	return b.repeat(ds, job, t.name, 0, func(int) (sample, error) {
		return b.serveOnce(ds, t, ref, name, start, end)
	})
}

// serveOnce starts blobber serve on a free port, GETs name (bytes [start,
// end) when start >= 0) and checks the bytes against the dataset's file,
// then stops the server with an interrupt and waits for it to exit.
func (b *bench) serveOnce(ds *dataset, t *tool, ref, name string, start, end int64) (sample, error) {
	want, err := readRange(filepath.Join(ds.dir, filepath.FromSlash(name)), start, end)
	if err != nil {
		return sample{}, err
	}
	return b.measure(func() (usage, error) {
		p := b.command(t, nil, "serve", "-q", "--addr", "127.0.0.1:0", ref)
		stdout, err := p.cmd.StdoutPipe()
		if err != nil {
			return usage{}, err
		}
		var stderr cappedBuffer
		p.cmd.Stderr = &stderr
		if err := p.cmd.Start(); err != nil {
			return usage{}, err
		}
		getErr := serveGet(stdout, name, start, end, want)
		_ = p.cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- p.cmd.Wait() }()
		select {
		case err = <-done:
		case <-time.After(time.Minute):
			_ = p.cmd.Process.Kill()
			err = fmt.Errorf("still running a minute after the interrupt: %w", <-done)
		}
		u := p.usage()
		if getErr != nil {
			return u, fmt.Errorf("%s: %w\n%s", p, getErr, strings.TrimSpace(stderr.String()))
		}
		if err != nil {
			return u, fmt.Errorf("%s: %v\n%s", p, err, strings.TrimSpace(stderr.String()))
		}
		return u, nil
	})
}

// serveGet reads the server's URL from its output and fetches name.
func serveGet(stdout io.Reader, name string, start, end int64, want []byte) error {
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return fmt.Errorf("no URL printed: %w", err)
	}
	req, err := http.NewRequest(http.MethodGet, strings.TrimSpace(line)+name, nil)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if start >= 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", start, end-1))
		status = http.StatusPartialContent
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != status || !bytes.Equal(got, want) {
		return fmt.Errorf("GET %s: %s, %d bytes, want %d and the file's bytes", name, resp.Status, len(got), len(want))
	}
	return nil
}

// readRange reads bytes [start, end) of the file at path, or all of it
// when start < 0.
func readRange(path string, start, end int64) ([]byte, error) {
	if start < 0 {
		return os.ReadFile(path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, end-start)
	_, err = f.ReadAt(buf, start)
	return buf, err
}
