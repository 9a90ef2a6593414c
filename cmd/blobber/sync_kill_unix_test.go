//go:build unix

package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// The real binary, killed with SIGKILL while a sync of v2 over v1 is
// fetching (the proxy stalls the layer's range requests after the first
// few): every file under its final name is v1's or v2's whole, and the
// sync run again leaves exactly v2, with no temporary file behind.
func TestSyncKilledMidTransferConverges(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	env := append(os.Environ(), "BLOBBER_CACHE_DIR="+filepath.Join(t.TempDir(), "cache"), "DOCKER_CONFIG="+t.TempDir())
	blobber := func(args ...string) *exec.Cmd {
		cmd := exec.Command("blobber", args...)
		cmd.Env = env
		return cmd
	}
	run := func(args ...string) {
		t.Helper()
		if out, err := blobber(args...).CombinedOutput(); err != nil {
			t.Fatalf("blobber %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}

	// 40 files of 64 KiB that do not compress; v2 changes every other
	// one, so that each changed file is a range request of its own.
	r := rand.New(rand.NewPCG(3, 4))
	content := func() string {
		b := make([]byte, 64<<10)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return string(b)
	}
	v1, v2 := map[string]string{}, map[string]string{}
	for i := range 40 {
		name := fmt.Sprintf("f%02d.bin", i)
		v1[name] = content()
		v2[name] = v1[name]
		if i%2 == 0 {
			v2[name] = content()
		}
	}
	src1, src2 := t.TempDir(), t.TempDir()
	testtree.Write(t, src1, v1)
	testtree.Write(t, src2, v2)
	ref1, ref2 := proxy.Host()+"/sync/kill:v1", proxy.Host()+"/sync/kill:v2"
	run("push", src1, ref1)
	run("push", src2, ref2)
	out := filepath.Join(t.TempDir(), "out")
	run("sync", ref1, out)

	// Let three of the layer's range requests through, then stall the
	// rest (the table of contents lies at the layer's end, past 2 MiB).
	var passed atomic.Int32
	stalled := make(chan struct{}, 1)
	proxy.SetFaults(func(req *http.Request) *registrytest.Fault {
		var start int64
		if _, err := fmt.Sscanf(req.Header.Get("Range"), "bytes=%d-", &start); err != nil ||
			req.Method != http.MethodGet || !strings.Contains(req.URL.Path, "/blobs/") || start >= 2<<20 {
			return nil
		}
		if passed.Add(1) <= 3 {
			return nil
		}
		select {
		case stalled <- struct{}{}:
		default:
		}
		return &registrytest.Fault{Delay: time.Minute}
	})
	cmd := blobber("--concurrency", "2", "sync", ref2, out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-stalled:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("the sync made no stalled request:\n%s", stderr.String())
	}
	time.Sleep(100 * time.Millisecond) // what was not stalled lands
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	proxy.SetFaults(nil)

	entries, err := os.ReadDir(out)
	testtree.Must(t, err)
	replaced, hidden := 0, 0
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			hidden++
			continue
		}
		data, err := os.ReadFile(filepath.Join(out, e.Name()))
		testtree.Must(t, err)
		switch string(data) {
		case v2[e.Name()]:
			if v1[e.Name()] != v2[e.Name()] {
				replaced++
			}
		case v1[e.Name()]:
		default:
			t.Errorf("after SIGKILL, %s holds %d bytes that are neither v1's nor v2's", e.Name(), len(data))
		}
	}
	if replaced == 0 || replaced == 20 {
		t.Errorf("the kill did not land mid-transfer: %d of 20 files replaced", replaced)
	}
	t.Logf("killed with %d of 20 files replaced, %d hidden names left", replaced, hidden)

	run("sync", ref2, out)
	testtree.Equal(t, src2, out)
}
