package testartifact

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containerd/stargz-snapshotter/estargz"
	"github.com/containerd/stargz-snapshotter/estargz/zstdchunked"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/oci"
)

// open checks a blob with estargz's own reader and its TOC digest.
func open(t *testing.T, blob []byte, tocDigest digest.Digest) *estargz.Reader {
	t.Helper()
	r, err := estargz.Open(io.NewSectionReader(bytes.NewReader(blob), 0, int64(len(blob))))
	if err != nil {
		t.Fatalf("estargz.Open: %v", err)
	}
	if _, err := r.VerifyTOC(tocDigest); err != nil {
		t.Fatalf("VerifyTOC: %v", err)
	}
	return r
}

func readAll(t *testing.T, r *estargz.Reader, name string) []byte {
	t.Helper()
	sr, err := r.OpenFile(name)
	if err != nil {
		t.Fatalf("OpenFile(%q): %v", name, err)
	}
	data, err := io.ReadAll(io.NewSectionReader(sr, 0, sr.Size()))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestEStargzKeepsHostileNames(t *testing.T) {
	blob, _, diffID, err := EStargz(Tar(
		File("../evil", "x", 0o644),
		File("/abs", "y", 0o4755),
		Symlink("l", "../outside"),
		Hardlink("h", "/etc/passwd"),
		Fifo("p"),
		CharDev("c"),
	))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := DiffID(blob); err != nil || got != diffID {
		t.Fatalf("DiffID = %s, %v; writer said %s", got, err, diffID)
	}
	// estargz.Open itself would refuse the dangling hard link.
	toc, _, err := ReadTOC(blob)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range toc.Entries {
		names = append(names, e.Type+":"+e.Name+">"+e.LinkName)
	}
	want := "reg:../evil>,reg:/abs>,symlink:l>../outside,hardlink:h>/etc/passwd,fifo:p>,char:c>"
	if strings.Join(names, ",") != want {
		t.Fatalf("TOC entries %v", names)
	}
	if e := Find(toc, "/abs"); e.Mode != 0o4755 {
		t.Fatalf("mode %o", e.Mode)
	}
}

func TestRewriteAndFooter(t *testing.T) {
	blob, _, _, err := EStargz(Tar(File("a", "alpha", 0o644), File("b", "bravo", 0o644)))
	if err != nil {
		t.Fatal(err)
	}
	out, tocDigest, err := RewriteTOC(blob, func(toc *estargz.JTOC) {
		Find(toc, "a").Name = "z\x00z"
	})
	if err != nil {
		t.Fatal(err)
	}
	toc, off, err := ReadTOC(out)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(toc)
	if digest.FromBytes(raw) != tocDigest || Find(toc, "z\x00z") == nil {
		t.Fatalf("rewritten TOC %s", raw)
	}
	if got, _ := TOCOffset(blob); got != off {
		t.Fatalf("TOC moved from %d to %d", got, off)
	}
	for _, want := range []int64{-1, 1 << 62, 0, off + 1000} {
		_, got, _, err := new(estargz.GzipDecompressor).ParseFooter(WithFooter(blob, want)[len(blob)-GzipFooterSize:])
		if err != nil || got != want {
			t.Errorf("footer for %d parses as %d, %v", want, got, err)
		}
	}
}

func TestZstdFooter(t *testing.T) {
	blob, tocDigest, _, err := EStargzWith(Tar(File("a", "alpha", 0o644)), Options{Zstd: true})
	if err != nil {
		t.Fatal(err)
	}
	_ = tocDigest
	out := WithZstdFooter(blob, 100, 1<<62, 7)
	_, off, size, err := new(zstdchunked.Decompressor).ParseFooter(out[len(out)-ZstdFooterSize:])
	if err != nil || off != 100 || size != 1<<62 {
		t.Fatalf("zstd footer: %d %d %v", off, size, err)
	}
}

func TestBuilder(t *testing.T) {
	b := NewBuilder()
	b.ChunkSize = 1 << 20
	if err := b.AddRaw(PAXHeader(map[string]string{"comment": strings.Repeat("c", 2<<20)})); err != nil {
		t.Fatal(err)
	}
	if err := b.Add(&tar.Header{Typeflag: tar.TypeReg, Name: "pax", Mode: 0o644, Size: 5}, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if err := b.AddZeros(&tar.Header{Typeflag: tar.TypeReg, Name: "zeros", Mode: 0o644, Size: 3<<20 + 7}); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("0123456789"), 300_000)
	if err := b.Add(&tar.Header{Typeflag: tar.TypeReg, Name: "dir/big", Mode: 0o600, Size: int64(len(big))}, big); err != nil {
		t.Fatal(err)
	}
	if err := b.Add(&tar.Header{Typeflag: tar.TypeSymlink, Name: "l", Linkname: "pax"}, nil); err != nil {
		t.Fatal(err)
	}
	blob, tocDigest, diffID, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if diffID != "" {
		t.Fatalf("diffID %s after AddZeros", diffID)
	}
	if len(blob) > 200<<10 {
		t.Fatalf("blob is %d bytes", len(blob))
	}
	r := open(t, blob, tocDigest)
	if got := readAll(t, r, "pax"); string(got) != "hello" {
		t.Fatalf("pax = %q", got)
	}
	if got := readAll(t, r, "zeros"); len(got) != 3<<20+7 || bytes.Count(got, []byte{0}) != len(got) {
		t.Fatalf("zeros: %d bytes", len(got))
	}
	if got := readAll(t, r, "dir/big"); !bytes.Equal(got, big) {
		t.Fatal("dir/big differs")
	}
	// Every chunk verifies against its chunkDigest.
	v, err := r.VerifyTOC(tocDigest)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"pax", "zeros", "dir/big"} {
		ent, _ := r.Lookup(name)
		for off := int64(0); off < ent.Size; {
			ce, ok := r.ChunkEntryForOffset(name, off)
			if !ok {
				t.Fatalf("%s: no chunk at %d", name, off)
			}
			cv, err := v.Verifier(ce)
			if err != nil {
				t.Fatal(err)
			}
			sr, _ := r.OpenFile(name)
			if _, err := io.Copy(cv, io.NewSectionReader(sr, ce.ChunkOffset, ce.ChunkSize)); err != nil {
				t.Fatal(err)
			}
			if !cv.Verified() {
				t.Fatalf("%s: chunk at %d does not verify", name, off)
			}
			off += ce.ChunkSize
		}
	}
	// Without AddZeros the diffID is the tar's.
	b2 := NewBuilder()
	if err := b2.Add(&tar.Header{Typeflag: tar.TypeReg, Name: "a", Size: 1}, []byte("a")); err != nil {
		t.Fatal(err)
	}
	blob2, _, diffID2, err := b2.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := DiffID(blob2); err != nil || got != diffID2 {
		t.Fatalf("DiffID %s, %v; builder said %s", got, err, diffID2)
	}
}

func TestPushToLayout(t *testing.T) {
	ctx := context.Background()
	store, err := oci.New(filepath.Join(t.TempDir(), "layout"))
	if err != nil {
		t.Fatal(err)
	}
	blob, tocDigest, diffID, err := EStargz(Tar(File("a", "alpha", 0o644)))
	if err != nil {
		t.Fatal(err)
	}
	desc, err := Push(ctx, store, "v1", blob, tocDigest, diffID, func(a *Artifact) {
		a.Layer.Digest = "sha256:../../x"
		a.Layer.URLs = []string{"https://example.invalid/x"}
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := store.Resolve(ctx, "v1")
	if err != nil || got.Digest != desc.Digest {
		t.Fatalf("Resolve: %v, %v", got, err)
	}
	raw, err := content.FetchAll(ctx, store, desc)
	if err != nil {
		t.Fatal(err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if m.Layers[0].Digest != "sha256:../../x" || m.Layers[0].Annotations[estargz.TOCJSONDigestAnnotation] != tocDigest.String() {
		t.Fatalf("layer %+v", m.Layers[0])
	}
}

func TestPAXHeader(t *testing.T) {
	for _, n := range []int{0, 1, 5, 90, 1000, 100_000} {
		val := strings.Repeat("v", n)
		raw := PAXHeader(map[string]string{"comment": val, "path": "renamed"})
		var buf bytes.Buffer
		buf.Write(raw)
		tw := tar.NewWriter(&buf)
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "orig", Size: 2}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte("hi"))
		tw.Close()
		h, err := tar.NewReader(&buf).Next()
		if err != nil {
			t.Fatalf("%d: %v", n, err)
		}
		if h.Name != "renamed" || h.PAXRecords["comment"] != val {
			t.Fatalf("%d: header %q, comment of %d bytes", n, h.Name, len(h.PAXRecords["comment"]))
		}
	}
}
