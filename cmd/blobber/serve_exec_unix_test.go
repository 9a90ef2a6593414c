//go:build unix

package main

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/blobber-dev/blobber/internal/registrytest"
)

// The real binary: blobber serve on a port the kernel picks prints its
// URL, serves a file, logs the request with --debug, and exits 0 on
// SIGTERM once the server has shut down.
func TestServeBinaryStopsOnSIGTERM(t *testing.T) {
	reg := registrytest.Start(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "docs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "docs", "hello.txt"), []byte("hello, served\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "BLOBBER_CACHE_DIR="+filepath.Join(t.TempDir(), "cache"), "DOCKER_CONFIG="+t.TempDir())
	ref := reg.Host() + "/serve/bin:v1"
	push := exec.Command("blobber", "push", dir, ref)
	push.Env = env
	if out, err := push.CombinedOutput(); err != nil {
		t.Fatalf("push: %v\n%s", err, out)
	}

	cmd := exec.Command("blobber", "--debug", "serve", "-q", "--addr", "127.0.0.1:0", ref)
	cmd.Env = env
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
	lines := bufio.NewReader(stdout)
	url, err := lines.ReadString('\n')
	if err != nil {
		t.Fatalf("no URL printed: %v\n%s", err, stderr.String())
	}
	url = strings.TrimSpace(url)
	if !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.HasSuffix(url, "/") {
		t.Fatalf("printed %q, want the URL it serves on", url)
	}
	resp, err := http.Get(url + "docs/hello.txt")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || string(body) != "hello, served\n" {
		t.Fatalf("GET docs/hello.txt: %s %q %v", resp.Status, body, err)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("blobber serve after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("blobber serve still running 30s after SIGTERM\n%s", stderr.String())
	}
	log := stderr.String()
	if !strings.Contains(log, "msg=request method=GET path=/docs/hello.txt status=200 bytes=14") {
		t.Fatalf("--debug did not log the request:\n%s", log)
	}
}
