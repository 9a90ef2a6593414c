package main

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blobber-dev/blobber/internal/registrytest"
	ta "github.com/blobber-dev/blobber/internal/testartifact"
)

// completionEnv points the cache and the credentials into the test's own
// directories.
func completionEnv(t *testing.T) {
	t.Setenv("BLOBBER_CACHE_DIR", filepath.Join(t.TempDir(), "cache"))
	t.Setenv("DOCKER_CONFIG", filepath.Join(t.TempDir(), "docker"))
}

// Names a terminal would act on are not offered: the completion scripts
// print candidates raw.
func TestCompletionSkipsHostileNames(t *testing.T) {
	reg := registrytest.Start(t)
	completionEnv(t)
	var entries []ta.Entry
	for _, n := range append(append([]string{}, hostileNames...), readableNames...) {
		entries = append(entries, ta.File(n, "x", 0o644))
	}
	ref := pushHostile(t, context.Background(), reg, "completion", entries...)

	out, errOut, code := runCLI(t, "__complete", "cat", ref, "")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := checkLines(t, out)
	for _, n := range readableNames {
		if !containsLine(lines, n) {
			t.Errorf("readable name %q not offered:\n%s", n, out)
		}
	}
	if want := len(readableNames) + 1; len(lines) != want { // and the directive
		t.Errorf("%d lines, want the %d readable names and the directive:\n%q", len(lines), want, out)
	}
}

// The table of contents is read once: the next Tab within the cache's
// short trust of the tag asks the registry nothing.
func TestCompletionReadsTheTOCOnce(t *testing.T) {
	reg := registrytest.Start(t)
	proxy := reg.CountingProxy(t)
	completionEnv(t)
	pushHostile(t, context.Background(), reg, "once", ta.File("d/a.txt", "a", 0o644), ta.File("d/b.txt", "b", 0o644))
	ref := proxy.Host() + "/hostile/once:v1"

	for i, want := range []string{"d/\n:6\n", "d/a.txt\nd/b.txt\n:4\n"} {
		proxy.Reset()
		out, errOut, code := runCLI(t, "__complete", "ls", ref, []string{"", "d/"}[i])
		if code != 0 || out != want {
			t.Fatalf("completion %d: exit %d, %q, want %q: %s", i, code, out, want, errOut)
		}
		if i > 0 {
			if s := proxy.Stats(); s.Requests != 0 {
				t.Errorf("the second completion made %d requests, want none: %+v", s.Requests, s)
			}
		}
	}
}

// A registry that accepts connections and never answers costs a short
// pause, not a hung shell, and prints nothing.
func TestCompletionGivesUpOnASilentRegistry(t *testing.T) {
	completionEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		held  sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn // held open, unanswered, until the test ends
	)
	held.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	})
	t.Cleanup(func() {
		ln.Close()
		held.Wait()
		for _, c := range conns {
			c.Close()
		}
	})

	for _, args := range [][]string{
		{"__complete", "cat", ln.Addr().String() + "/x:"},
		{"__complete", "cat", ln.Addr().String() + "/x:v1", "d"},
	} {
		done := make(chan string, 1)
		go func() {
			out, errOut, code := runCLI(t, args...)
			if code != 0 || strings.Contains(errOut, "blobber") {
				t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
			}
			done <- out
		}()
		select {
		case out := <-done:
			if out != ":4\n" {
				t.Errorf("%q offered %q, want nothing", args, out)
			}
		case <-time.After(10 * completionTimeout):
			t.Fatalf("%q still waiting for a silent registry", args)
		}
	}
}
