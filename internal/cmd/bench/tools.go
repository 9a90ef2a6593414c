package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Peer tool versions, installed with `go install pkg@version` outside any
// go.mod so that they stay out of the library's module.
var peers = map[string]struct{ pkg, version string }{
	"oras":  {"oras.land/oras/cmd/oras", "v1.3.6"},
	"crane": {"github.com/google/go-containerregistry/cmd/crane", "v0.22.1"},
}

// tool is an installed command-line tool.
type tool struct {
	name    string
	path    string
	version string
}

// setupTools builds blobber from the checkout at modRoot and installs the
// peers into cacheDir. A tool that cannot be set up is reported in notes and
// left out.
func setupTools(ctx context.Context, cacheDir, modRoot string, names []string) (map[string]*tool, []string) {
	tools := map[string]*tool{}
	var notes []string
	for _, name := range names {
		t, err := setupTool(ctx, cacheDir, modRoot, name)
		if err != nil {
			logf("WARNING: %s is not available: %v", name, err)
			notes = append(notes, fmt.Sprintf("%s could not be set up and was skipped: %v", name, err))
			continue
		}
		tools[name] = t
		logf("%s: %s (%s)", name, t.version, t.path)
	}
	return tools, notes
}

func setupTool(ctx context.Context, cacheDir, modRoot, name string) (*tool, error) {
	t := &tool{name: name}
	switch name {
	case "blobber":
		t.path = filepath.Join(cacheDir, "bin", "blobber")
		cmd := exec.CommandContext(ctx, "go", "build", "-o", t.path, "./cmd/blobber")
		cmd.Dir = modRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build ./cmd/blobber: %v\n%s", err, out)
		}
		t.version = "built from " + gitDescribe(ctx, modRoot)
		return t, nil
	case "rsswrap":
		t.path = filepath.Join(cacheDir, "bin", "rsswrap")
		cmd := exec.CommandContext(ctx, "go", "build", "-o", t.path, "./internal/cmd/bench/rsswrap")
		cmd.Dir = modRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build ./internal/cmd/bench/rsswrap: %v\n%s", err, out)
		}
		t.version = "rsswrap"
		return t, nil
	case "oras", "crane":
		p := peers[name]
		bin := filepath.Join(cacheDir, "tools", name+"-"+p.version)
		t.path = filepath.Join(bin, name)
		if _, err := os.Stat(t.path); err != nil {
			logf("installing %s@%s into %s", p.pkg, p.version, bin)
			if err := os.MkdirAll(bin, 0o755); err != nil {
				return nil, err
			}
			cmd := exec.CommandContext(ctx, "go", "install", p.pkg+"@"+p.version)
			cmd.Dir = bin // outside any module
			cmd.Env = append(os.Environ(), "GOBIN="+bin, "GOWORK=off")
			if out, err := cmd.CombinedOutput(); err != nil {
				return nil, fmt.Errorf("go install %s@%s: %v\n%s", p.pkg, p.version, err, out)
			}
		}
		out, err := exec.CommandContext(ctx, t.path, "version").Output()
		if err != nil {
			return nil, fmt.Errorf("%s version: %v", name, err)
		}
		// oras prints "Version: 1.3.6" on its first line, crane "v0.22.1".
		t.version = strings.TrimSpace(strings.TrimPrefix(firstLine(out), "Version:"))
		return t, nil
	}
	return nil, fmt.Errorf("unknown tool %q (want blobber, oras or crane)", name)
}

// gitDescribe names the checkout: its commit and whether it has changes.
func gitDescribe(ctx context.Context, dir string) string {
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "this checkout"
	}
	s := "commit " + firstLine(out)
	if st, err := exec.CommandContext(ctx, "git", "-C", dir, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		s += " with uncommitted changes"
	}
	return s
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return strings.TrimSpace(s)
}

// cappedBuffer keeps the first 16 KiB written to it, for error messages.
type cappedBuffer struct{ bytes.Buffer }

func (c *cappedBuffer) Write(p []byte) (int, error) {
	if room := 16<<10 - c.Len(); room > 0 {
		c.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// proc is a command to run; tools run under rsswrap, which writes their
// peak RSS and CPU time to rssFile.
type proc struct {
	cmd      *exec.Cmd
	rssFile  string // "" when not measured
	cacheDir string // blobber's cache for this command, removed when it is done
}

// usage is what rsswrap measured of one tool process.
type usage struct {
	rss int64 // peak RSS, KiB
	cpu time.Duration
}

// usage reads what rsswrap wrote, and removes the command's cache.
func (p proc) usage() usage {
	if p.cacheDir != "" {
		_ = os.RemoveAll(p.cacheDir)
	}
	if p.rssFile == "" {
		return usage{}
	}
	defer os.Remove(p.rssFile)
	b, err := os.ReadFile(p.rssFile)
	if err != nil {
		return usage{}
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return usage{}
	}
	rss, _ := strconv.ParseInt(f[0], 10, 64)
	cpu, _ := strconv.ParseInt(f[1], 10, 64)
	return usage{rss: rss, cpu: time.Duration(cpu)}
}

func (p proc) String() string {
	args := p.cmd.Args
	if p.rssFile != "" {
		args = args[2:] // rsswrap OUTFILE
	}
	return strings.Join(args, " ")
}

// runCmd runs p and returns its usage. Output not redirected by the caller
// is kept for the error message.
func runCmd(p proc) (usage, error) {
	var out cappedBuffer
	if p.cmd.Stdout == nil {
		p.cmd.Stdout = &out
	}
	if p.cmd.Stderr == nil {
		p.cmd.Stderr = &out
	}
	err := p.cmd.Run()
	u := p.usage()
	if err != nil {
		return u, fmt.Errorf("%s: %v\n%s", p, err, strings.TrimSpace(out.String()))
	}
	return u, nil
}

// runPipe runs first | second (first's stdout into second's stdin) and
// returns first's peak RSS and both processes' CPU time.
func runPipe(first, second proc) (usage, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return usage{}, err
	}
	var out1, out2 cappedBuffer
	first.cmd.Stdout, first.cmd.Stderr = pw, &out1
	second.cmd.Stdin, second.cmd.Stdout, second.cmd.Stderr = pr, &out2, &out2
	if err := first.cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return usage{}, err
	}
	if err := second.cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		_ = first.cmd.Process.Kill()
		_ = first.cmd.Wait()
		return usage{}, err
	}
	pr.Close()
	pw.Close()
	err1, err2 := first.cmd.Wait(), second.cmd.Wait()
	u := first.usage()
	u.cpu += second.usage().cpu
	switch {
	case err1 != nil:
		return u, fmt.Errorf("%s: %v\n%s", first, err1, strings.TrimSpace(out1.String()))
	case err2 != nil:
		return u, fmt.Errorf("%s: %v\n%s", second, err2, strings.TrimSpace(out2.String()))
	}
	return u, nil
}
