package toc

import (
	"archive/tar"
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"testing/fstest"
	"time"

	digest "github.com/opencontainers/go-digest"

	"github.com/blobber-dev/blobber/internal/compression"
	"github.com/blobber-dev/blobber/internal/layer"
	ta "github.com/blobber-dev/blobber/internal/testartifact"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz/FuzzTOCJSON/writer-* from the writers")

// writerBlob is a blob as one of the writers blobber must read made it.
type writerBlob struct {
	name      string
	blob      []byte
	comp      compression.Compression
	tocDigest digest.Digest
	// json is the TOC JSON, for a writer that is not at hand (its blob is
	// then nil): validated as a TOC, not read from a blob.
	json []byte
}

// writerBlobs are TOCs as estargz's writer, the original Blobber (estargz's
// lossless writer over a walk that includes the root), containers/storage's
// zstd:chunked writer and blobber itself write them, for full trees, empty
// trees and trees of empty directories.
func writerBlobs(t *testing.T) []writerBlob {
	t.Helper()
	epoch := time.Date(2026, 11, 28, 1, 2, 3, 0, time.UTC)
	tree := ta.Tar(ta.Dir("d/"), ta.File("d/f", "hello\n", 0o644), ta.File("d/empty", "", 0o600), ta.Symlink("l", "d/f"))
	// What tar.FileInfoHeader and the original Blobber's walk make: the
	// root as ".", owners and times.
	owned := func(h *tar.Header) ta.Entry {
		h.Uid, h.Gid, h.Uname, h.Gname, h.ModTime = 1000, 1000, "dev", "dev", epoch
		return ta.Raw(h, nil)
	}
	original := ta.Tar(
		owned(&tar.Header{Typeflag: tar.TypeDir, Name: ".", Mode: 0o755}),
		owned(&tar.Header{Typeflag: tar.TypeDir, Name: "d", Mode: 0o755}),
		ta.Raw(&tar.Header{Typeflag: tar.TypeReg, Name: "d/f", Mode: 0o644, Size: 6, Uid: 1000, Gid: 1000, Uname: "dev", Gname: "dev", ModTime: epoch}, []byte("hello\n")),
	)
	originalEmpty := ta.Tar(owned(&tar.Header{Typeflag: tar.TypeDir, Name: ".", Mode: 0o755}))

	var out []writerBlob
	estargzOf := func(name string, tarBytes []byte, o ta.Options) {
		blob, d, _, err := ta.EStargzWith(tarBytes, o)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		c := compression.Gzip
		if o.Zstd {
			c = compression.Zstd
		}
		out = append(out, writerBlob{name: name, blob: blob, comp: c, tocDigest: d})
	}
	estargzOf("estargz-gzip", tree, ta.Options{})
	estargzOf("estargz-gzip-empty", ta.Tar(), ta.Options{})
	estargzOf("estargz-zstd", tree, ta.Options{Zstd: true})
	estargzOf("estargz-zstd-empty", ta.Tar(), ta.Options{Zstd: true})
	estargzOf("original-blobber", original, ta.Options{Lossless: true})
	estargzOf("original-blobber-empty", originalEmpty, ta.Options{Lossless: true})

	blobberOf := func(name string, fsys fstest.MapFS, c compression.Compression) {
		var buf bytes.Buffer
		res, err := layer.Build(context.Background(), fsys, &buf, layer.Options{Compression: c})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, writerBlob{name: name, blob: buf.Bytes(), comp: c, tocDigest: res.TOCDigest})
	}
	dirs := fstest.MapFS{"a": {Mode: fs0755Dir}, "a/b": {Mode: fs0755Dir}, "c": {Mode: fs0755Dir}}
	blobberOf("blobber-gzip-empty", fstest.MapFS{}, compression.Gzip)
	blobberOf("blobber-zstd-empty", fstest.MapFS{}, compression.Zstd)
	blobberOf("blobber-gzip-dirs", dirs, compression.Gzip)
	blobberOf("blobber-zstd-dirs", dirs, compression.Zstd)

	// containers/storage's zstd:chunked writer marshals its own TOC type
	// compactly: "type" before "name", times with nanoseconds, fields
	// estargz does not know (accesstime, endOffset, chunkType), a
	// tarSplitDigest after the entries, and null for no entries.
	split := digest.FromString("tar-split").String()
	out = append(out,
		writerBlob{name: "containers-storage", comp: compression.Zstd, json: []byte(`{"version":1,"entries":[` +
			`{"type":"dir","name":"d/","mode":493,"modtime":"2026-11-28T01:02:03.123456789Z","accesstime":"2026-11-28T01:02:03Z","changetime":"2026-11-28T01:02:03Z","xattrs":{"user.k":"dg=="}},` +
			`{"type":"reg","name":"d/empty","mode":384,"uid":1000,"gid":1000,"modtime":"2026-11-28T01:02:03Z","digest":"` + digest.FromBytes(nil).String() + `"},` +
			`{"type":"symlink","name":"l","linkName":"d/\u003cf\u003e","mode":511,"modtime":"2026-11-28T01:02:03Z"}` +
			`],"tarSplitDigest":"` + split + `"}`)},
		writerBlob{name: "containers-storage-empty", comp: compression.Zstd, json: []byte(`{"version":1,"entries":null,"tarSplitDigest":"` + split + `"}`)},
	)
	return out
}

// fs0755Dir is a directory's mode in a MapFS.
const fs0755Dir = 0o755 | 1<<31

// rawTOC is the TOC JSON of blob.
func rawTOC(t *testing.T, blob []byte, c compression.Compression) []byte {
	t.Helper()
	l, err := parseFooter(c, blob[max(0, len(blob)-TailSize):], int64(len(blob)))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := decompressTOC(c, bytes.NewReader(blob[l.tocOffset:l.tocOffset+l.tocSize]), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	raw, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// Every TOC these writers make is read as encoding/json reads it, and
// validated: the empty ones ("entries": null) included.
func TestReadsWhatWritersWrite(t *testing.T) {
	for _, w := range writerBlobs(t) {
		t.Run(w.name, func(t *testing.T) {
			raw := w.json
			if w.blob != nil {
				raw = rawTOC(t, w.blob, w.comp)
			}
			sameAsDecoder(t, raw)
			if w.blob == nil {
				b := newBuilder(w.comp, 1<<20, 1<<20, DefaultLimits)
				version, err := readTOC(compression.Gzip, gzipTOC(t, raw), digest.FromBytes(raw), DefaultLimits, b.add)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := b.finish(version); err != nil {
					t.Fatal(err)
				}
				return
			}
			ix, err := Read(context.Background(), bytes.NewReader(w.blob), int64(len(w.blob)), w.comp, w.tocDigest, Limits{})
			if err != nil {
				t.Fatalf("%s\n%s", err, raw)
			}
			checkIndex(t, ix)
		})
	}
}

// The writers' TOCs are seeds of FuzzTOCJSON (go test -run
// TestFuzzSeedsOfWriters ./internal/toc -update-seeds writes them).
func TestFuzzSeedsOfWriters(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzTOCJSON")
	for _, w := range writerBlobs(t) {
		raw := w.json
		if w.blob != nil {
			raw = rawTOC(t, w.blob, w.comp)
		}
		want := "go test fuzz v1\n[]byte(" + strconv.Quote(string(raw)) + ")\n"
		p := filepath.Join(dir, "writer-"+w.name)
		if *updateSeeds {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(p)
		if err != nil || string(got) != want {
			t.Errorf("seed %s is missing or stale (run with -update-seeds): %v", p, err)
		}
	}
}
