//go:build unix

package main

import (
	"bufio"
	"bytes"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestProxyCountsAndReports runs the command with -proxy: the address it
// prints is the proxy's, which forwards to the registry, and the counts
// it prints when stopped include the requests made through it.
func TestProxyCountsAndReports(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "testregistry")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-proxy")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimSpace(line)
	if !strings.HasPrefix(host, "127.0.0.1:") {
		t.Fatalf("printed %q, want a 127.0.0.1 address", host)
	}
	for range 3 {
		resp, err := http.Get("http://" + host + "/v2/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /v2/ through the proxy: %s", resp.Status)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("did not stop on SIGTERM")
	}
	if !strings.Contains(stderr.String(), "Requests:3 ") {
		t.Fatalf("stderr %q does not count the 3 requests", stderr.String())
	}
}
