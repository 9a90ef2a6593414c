package interop

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// orasVersion is the ORAS CLI that must unpack Blobber's artifacts.
const orasVersion = "v1.3.6"

// orasBinary builds the ORAS CLI (once per cache directory) with go
// install. Set $ORAS to use a prebuilt binary instead.
func orasBinary(t *testing.T) string {
	t.Helper()
	if path := os.Getenv("ORAS"); path != "" {
		return path
	}
	dir := os.Getenv("BLOBBER_INTEROP_BIN")
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		dir = filepath.Join(cache, "blobber-interop", "oras-"+orasVersion)
	}
	bin := filepath.Join(dir, "oras")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	cmd := exec.Command("go", "install", "oras.land/oras/cmd/oras@"+orasVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=-buildvcs=false")
	cmd.Dir = t.TempDir() // outside this module
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("oras %s does not build here (%v): %s", orasVersion, err, out)
	}
	return bin
}

func runORAS(t *testing.T, bin, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir) // no docker config of the user's
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t.Logf("oras %s:\n%s", strings.Join(args, " "), out.String())
	return out.String(), err
}

// TestORASPullUnpacksTheTree: `oras pull REF -o DIR` of a Blobber artifact
// gives back the pushed tree, exactly, while Blobber still reads it.
func TestORASPullUnpacksTheTree(t *testing.T) {
	ctx := context.Background()
	bin := orasBinary(t)
	reg := registrytest.Start(t)
	work := t.TempDir()
	src := filepath.Join(work, "site")
	big := strings.Repeat("chunked across several eStargz chunks\n", 2000)
	testtree.WriteEntries(t, src, map[string]testtree.Entry{
		"index.html":          {Content: "<h1>hi</h1>\n"},
		"empty":               {},
		"bin/run.sh":          {Content: "#!/bin/sh\n", Mode: 0o755},
		"assets/css/site.css": {Content: big},
		"assets/empty-dir":    {Mode: fs.ModeDir | 0o755},
		"latest.css":          {Mode: fs.ModeSymlink, Content: "assets/css/site.css"},
	})

	c, err := blobber.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	tree, err := blobber.OpenTree(src)
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	ref := reg.Host() + "/interop/oras:v1"
	if _, err := c.Push(ctx, ref, tree, blobber.WithChunkSize(4096)); err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(work, "out")
	if msg, err := runORAS(t, bin, work, "pull", "--plain-http", "-o", out, ref); err != nil {
		t.Fatalf("oras pull: %v\n%s", err, msg)
	}
	testtree.Equal(t, src, out)

	// Blobber reads the same artifact as before.
	img, err := c.Open(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if data, err := img.ReadFile("assets/css/site.css"); err != nil || string(data) != big {
		t.Fatalf("blobber cat: %d bytes, %v", len(data), err)
	}
}

// TestORASSkipsZstd: ORAS unpacks only gzip, so a zstd layer carries no
// title and ORAS pulls nothing rather than failing or writing a blob.
func TestORASSkipsZstd(t *testing.T) {
	ctx := context.Background()
	bin := orasBinary(t)
	reg := registrytest.Start(t)
	work := t.TempDir()
	c, err := blobber.NewClient()
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(work, "site")
	testtree.Write(t, src, map[string]string{"a.txt": "a\n"})
	ref := reg.Host() + "/interop/oras-zstd:v1"
	if _, err := c.Push(ctx, ref, os.DirFS(src), blobber.WithCompression(blobber.Zstd)); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(work, "out")
	msg, err := runORAS(t, bin, work, "pull", "--plain-http", "-o", out, ref)
	if err != nil {
		t.Fatalf("oras pull: %v\n%s", err, msg)
	}
	if !strings.Contains(msg, "Skipped pulling layers without file name") {
		t.Errorf("oras did not skip the zstd layer:\n%s", msg)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("oras wrote %d entries from a zstd layer", len(entries))
	}
}
