package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/stargz-snapshotter/estargz"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/blobber-dev/blobber"
	"github.com/blobber-dev/blobber/internal/registrytest"
	"github.com/blobber-dev/blobber/internal/testtree"
)

// orasVersion is the ORAS CLI that must unpack Blobber's artifacts.
const orasVersion = "v1.3.6"

// orasBinary builds the ORAS CLI (see toolBinary); $ORAS names a prebuilt one.
func orasBinary(t *testing.T) string {
	return toolBinary(t, "ORAS", "oras", "oras.land/oras/cmd/oras", orasVersion)
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

	// The layer ORAS unpacked is still an eStargz whose TOC verifies
	// against the manifest's annotation.
	verifyEStargz(t, reg.Host(), "interop/oras", "v1")

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

// verifyEStargz opens the one layer of repo:tag with the estargz package
// and verifies its TOC against the manifest's annotation.
func verifyEStargz(t *testing.T, host, repo, tag string) {
	t.Helper()
	ctx := context.Background()
	r, err := remote.NewRepository(host + "/" + repo)
	testtree.Must(t, err)
	r.PlainHTTP = true
	_, raw, err := oras.FetchBytes(ctx, r, tag, oras.DefaultFetchBytesOptions)
	testtree.Must(t, err)
	var m ocispec.Manifest
	testtree.Must(t, json.Unmarshal(raw, &m))
	if len(m.Layers) != 1 {
		t.Fatalf("%d layers", len(m.Layers))
	}
	l := m.Layers[0]
	if l.Annotations[ocispec.AnnotationTitle] != "." || l.Annotations["io.deis.oras.content.unpack"] != "true" {
		t.Errorf("layer annotations %v", l.Annotations)
	}
	blob, err := content.FetchAll(ctx, r, l)
	testtree.Must(t, err)
	sr := io.NewSectionReader(bytes.NewReader(blob), 0, int64(len(blob)))
	er, err := estargz.Open(sr)
	if err != nil {
		t.Fatalf("estargz.Open: %v", err)
	}
	tocDigest, err := digest.Parse(l.Annotations[estargz.TOCJSONDigestAnnotation])
	testtree.Must(t, err)
	if _, err := er.VerifyTOC(tocDigest); err != nil {
		t.Fatalf("estargz VerifyTOC: %v", err)
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
